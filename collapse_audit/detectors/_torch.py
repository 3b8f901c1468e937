"""Shared helpers for the transformers-based detectors (optional extra ``neural``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import overload

from ..errors import AuditError

INSTALL_HINT = "pip install 'collapse-audit[neural]'"


def require_transformers(what: str):
    """Import torch + transformers, or raise one clear sentence telling the user what to install."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except Exception as exc:  # ImportError, or a broken install
        raise AuditError(
            f"The {what} detector needs torch and transformers ({type(exc).__name__}: {exc}); "
            f"install them with `{INSTALL_HINT}`."
        ) from None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    try:
        transformers.utils.logging.disable_progress_bar()
    except Exception:
        pass
    return torch, transformers


DEVICES = ("auto", "cpu", "cuda", "mps")


def pick_device(torch, requested: str | None) -> str:
    """The torch device a model runs on: ``auto`` takes a GPU when torch sees one, else the CPU.

    Asking for ``cuda`` (or ``mps``) where none is available is a user error, not a silent CPU run.
    """
    want = str(requested or "auto").strip().lower()
    if want not in DEVICES and not want.startswith("cuda:"):
        raise AuditError(f"Unknown device {requested!r}; use one of: {', '.join(DEVICES)} (or cuda:N).")
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if want == "auto":
        return "cuda" if torch.cuda.is_available() else ("mps" if has_mps else "cpu")
    if want.startswith("cuda") and not torch.cuda.is_available():
        raise AuditError(f"Device {want!r} was asked for, but torch sees no CUDA GPU "
                         f"(torch {torch.__version__}); use --device cpu or auto.")
    if want == "mps" and not has_mps:
        raise AuditError("Device 'mps' was asked for, but torch sees no Apple GPU; use --device cpu or auto.")
    return want


def max_positions(model, tokenizer, requested=None) -> int:
    """Longest input the model accepts (its position table, its tokenizer, 512 at most)."""
    cfg = model.config
    lims = [512]
    for k in ("max_position_embeddings", "n_positions"):
        v = getattr(cfg, k, None)
        if isinstance(v, int) and v > 0:
            lims.append(v)
    v = getattr(tokenizer, "model_max_length", None)
    if isinstance(v, int) and 0 < v < 10**6:
        lims.append(v)
    if requested:
        lims.append(int(requested))
    return min(lims)


def guarded(kind: str, fn, *args):
    """Run a model call; turn an unexpected runtime failure into one AuditError sentence."""
    try:
        return fn(*args)
    except AuditError:
        raise
    except Exception as exc:
        msg = str(exc).splitlines()[0] if str(exc) else ""
        raise AuditError(f"The {kind} detector failed while scoring: {type(exc).__name__}: {msg}") from None


def local_model_dir(spec_path: str, kind: str) -> Path:
    p = Path(spec_path).expanduser()
    if not p.is_dir():
        raise AuditError(f"The {kind} detector path {spec_path!r} is not a local model directory.")
    if not (p / "config.json").is_file():
        raise AuditError(f"The {kind} detector path {spec_path!r} has no config.json; "
                         "give the folder of a saved Hugging Face model.")
    return p


@overload
def option_float(options: dict, key: str, default: float) -> float: ...
@overload
def option_float(options: dict, key: str, default: None) -> float | None: ...
def option_float(options: dict, key: str, default: float | None) -> float | None:
    if key not in options or options[key] is None:
        return default
    try:
        return float(options[key])
    except (TypeError, ValueError):
        raise AuditError(f"The detector option {key!r} must be a number, not {options[key]!r}.") from None


def validation_from_options(options: dict, dataset: str) -> dict:
    """A user's own model is unvalidated unless the policy states its measured rates."""
    from .base import unvalidated

    v = unvalidated(dataset)
    keys = ("tpr", "fpr", "n_pos", "n_neg")
    if all(k in options for k in keys):
        v = {
            "tpr": float(options["tpr"]), "fpr": float(options["fpr"]),
            "n_pos": int(options["n_pos"]), "n_neg": int(options["n_neg"]),
            "auroc": options.get("auroc"), "dataset": str(options.get("dataset", "policy")),
            "split": str(options.get("split", "stated in policy")),
        }
    return v
