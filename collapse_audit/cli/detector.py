"""``collapse-audit detector`` - train, evaluate and run the synthetic-text detectors."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import typer

from ..errors import AuditError
from ..outputs import atomic_output, check_outputs
from ..text.inert import inert
from ..text.limits import clip_for_analysis
from .common import user_errors

app = typer.Typer(
    help="Train, evaluate and run the synthetic-text detectors.\n\n"
         "Detectors: default (embedded, numpy only), neural (packaged MiniLM encoder + trained head), "
         "hf:PATH (a local Hugging Face sequence-classification model), lm:PATH (zero-shot score "
         "from a local causal language model).",
    no_args_is_help=True,
    add_completion=False,
)


def _stream(path: str, text_field: str, fields: list[str]):
    """Batches of records from PATH through the shared readers (same formats, nested fields and
    bad-record errors as ``scan``): an unreadable record stops with its file and line (exit 2)."""
    from ..readers import BadRecordSink, discover, iter_batches

    return iter_batches(discover([path]), text_field, [f for f in fields if f != text_field], 4096,
                        BadRecordSink(max_bad=0))


def _options(opts: list[str]) -> dict:
    out = {}
    for o in opts:
        k, sep, v = o.partition("=")
        if not sep:
            raise AuditError(f"Detector option {o!r} must look like key=value.")
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def _load(spec: str, opts: list[str]):
    from ..detectors.registry import load_detector
    return load_detector(spec, _options(opts))


DETECTOR_OPT = typer.Option("default", "--detector", "-d",
                            help="default | neural | hf:PATH | lm:PATH")
OPTION_OPT = typer.Option([], "--option", "-O",
                          help="detector option key=value (repeatable), e.g. synthetic_label=LABEL_1, "
                               "threshold=0.7, method=log-rank")


@app.command()
@user_errors
def score(
    file: str = typer.Argument(..., help="JSONL(.gz) or Parquet file of records"),
    output: str = typer.Option(..., "--output", "-o", help="Parquet file to write"),
    text_field: str = typer.Option("text", "--text-field", help="field holding the text (dotted path)"),
    detector: str = DETECTOR_OPT,
    option: list[str] = OPTION_OPT,
    lm: bool = typer.Option(False, "--lm", help="also score every record with the language-model witness "
                            "(lm-smollm2; ~0.3 s a record on 2 CPU cores, use --device cuda on a GPU)"),
    lm_cache: str | None = typer.Option(None, "--lm-cache", help="Parquet score cache: witness scores found there "
                                        "are reused, new ones are added (keyed by weights and text SHA-256)"),
    device: str = typer.Option("auto", "--device",
                               help="where the language-model witness runs: auto | cpu | cuda | mps"),
):
    """Score every record: one output row per input record, in input order.

    Columns: file, row, synthetic_score = the trained detector's P(model-generated) in [0,1], flagged (at its
    threshold); with --lm also lm_curvature, lm_loglik, lm_logrank, lm_entropy (the zero-shot witness's
    features; higher curvature = more machine-like). Per-record flags rest on the trained score alone: the
    witness speaks about shares (see `scan`), not single records. Streams: memory stays flat.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    outputs: list[str | None] = [output, lm_cache]
    check_outputs(outputs, [file])  # before anything is read: never truncate the input
    det = _load(detector, option)
    witness, scorer = _lm_parts(lm, lm_cache, device)
    fields = [("file", pa.string()), ("row", pa.int64()), ("synthetic_score", pa.float64()), ("flagged", pa.bool_())]
    if witness is not None:
        fields += [(f"lm_{f}", pa.float64()) for f in witness.FEATURES]
    schema = pa.schema(fields, metadata={"collapse_audit.detector": json.dumps(det.describe(), default=str)})
    n = flagged = 0
    t0 = time.time()
    with atomic_output(output, "wb") as fh, pq.ParquetWriter(fh, schema) as writer:
        for batch in _stream(file, text_field, []):
            texts = clip_for_analysis(batch.texts)
            s = np.asarray(det.score(texts), np.float64)
            cols = {"file": pa.array([batch.file] * len(batch), pa.string()), "row": pa.array(batch.rows, pa.int64()),
                    "synthetic_score": pa.array(s), "flagged": pa.array(s >= det.threshold)}
            if witness is not None:
                feats = scorer.features(texts)
                cols.update({f"lm_{f}": pa.array(feats[:, j]) for j, f in enumerate(witness.FEATURES)})
            writer.write_table(pa.table(cols, schema=schema))
            n += len(batch)
            flagged += int((s >= det.threshold).sum())
        if n == 0:  # inside the block: no output file is left behind
            raise AuditError(f"No records found in {file} (the input is empty).")
    if scorer is not None and lm_cache:
        scorer.cache.save(lm_cache)
    dt = time.time() - t0
    typer.echo(f"scored {n} records with {det.name} ({det.version}){' and lm-smollm2' if witness else ''} in "
               f"{dt:.1f}s ({n / max(dt, 1e-9):.0f} docs/s); flagged {flagged}; wrote {inert(output)}", err=True)


def _lm_parts(lm: bool, lm_cache: str | None, device: str):
    """The witness module and a scorer reading and filling the score cache, when ``--lm`` asks for them."""
    if not lm:
        if lm_cache:
            raise AuditError("--lm-cache needs --lm (the cache holds the language-model witness's scores).")
        return None, None
    from ..detectors import lm_witness as W
    from ..detectors.score_cache import ScoreCache

    if not W.available():
        raise AuditError(f"--lm needs the language-model witness; install it with `{W.INSTALL_HINT}`.")
    W.check_weights(W.weights_path())
    cache = (ScoreCache.load(lm_cache, W.GGUF_SHA256, W.VERSION, W.MAX_TOKENS, W.FEATURES) if lm_cache
             else ScoreCache(W.GGUF_SHA256, W.VERSION, W.MAX_TOKENS, W.FEATURES))
    return W, W.LMScorer(device=device, cache=cache)


@app.command("eval")
@user_errors
def eval_(
    file: str = typer.Argument(..., help="labelled JSONL(.gz) or Parquet file"),
    label_field: str = typer.Option("label", "--label-field", help="field with the true label"),
    text_field: str = typer.Option("text", "--text-field"),
    group_field: str | None = typer.Option(None, "--group-field", help="report metrics per value of this field"),
    synthetic_values: str = typer.Option("synthetic,machine,model-generated,ai,generated,fake,1,true",
                                         "--synthetic-values",
                                         help="comma-separated label values meaning synthetic (others: human)"),
    detector: str = DETECTOR_OPT,
    option: list[str] = OPTION_OPT,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json"),
):
    """AUROC, TPR at 1% FPR, calibration error, and tpr/fpr at the threshold (per group with --group-field)."""
    from ..detectors import evaluate as E

    if fmt not in ("table", "json"):
        raise AuditError(f"Unknown format {fmt!r}; use table or json.")
    syn = {v.strip().lower() for v in synthetic_values.split(",") if v.strip()}
    det = _load(detector, option)
    t0 = time.time()
    y, s, groups = _labelled_scores(det, file, text_field, label_field, group_field, syn)
    dt = time.time() - t0
    if group_field:
        res = E.grouped(y, s, groups, det.threshold)
    else:
        res = {"overall": E.metrics(y, s, det.threshold)}
    res = {"detector": det.describe(), "file": file, "docs_per_s": len(y) / max(dt, 1e-9), **res}
    if fmt == "json":
        sys.stdout.write(json.dumps(res, indent=2, default=str) + "\n")
        return
    _print_eval_table(res, f"{det.name} ({det.version}) on {file}")


def _labelled_scores(det: Any, file: str, text_field: str, label_field: str, group_field: str | None,
                     syn: set[str]) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """(is synthetic, score, group) of every record of FILE, streamed through the shared readers.

    A record without a label stops the evaluation with its file and line (exit 2): counting it as
    human would bias every metric without a word."""
    scores: list[np.ndarray] = []
    labels: list[bool] = []
    groups: list[Any] = []
    for batch in _stream(file, text_field, [label_field] + ([group_field] if group_field else [])):
        for i, v in enumerate(batch.fields[label_field]):
            if v is None:
                raise AuditError(f"{batch.where(i)}: the label field {label_field!r} is missing.")
        labels.extend(str(v).strip().lower() in syn for v in batch.fields[label_field])
        if group_field:
            groups.extend("" if g is None else g for g in batch.fields[group_field])
        scores.append(np.asarray(det.score(clip_for_analysis(batch.texts)), np.float64))
    if not labels:
        raise AuditError(f"No records found in {file} (the input is empty).")
    return np.array(labels), np.concatenate(scores), groups


def _print_eval_table(res: dict, title: str) -> None:
    """The evaluation as a terminal table: overall first, then one row per group ("-" where a metric
    is undefined, e.g. AUROC of a group with one class)."""
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for c in ("group", "n", "pos", "neg", "AUROC", "TPR@1%FPR", "ECE", "TPR", "FPR"):
        t.add_column(c, justify="right" if c != "group" else "left")

    def f(x):
        return "-" if x is None else f"{x:.4f}"

    rows = [("overall", res["overall"])] + list(res.get("groups", {}).items())
    for g, m in rows:
        t.add_row(str(g), str(m["n"]), str(m["n_pos"]), str(m["n_neg"]), f(m["auroc"]),
                  f(m["tpr_at_1pct_fpr"]), f(m["calibration_error"]), f(m.get("tpr")), f(m.get("fpr")))
    Console().print(t)


@app.command()
@user_errors
def train(
    kind: str = typer.Option("default", "--kind", help="default | neural | all"),
    data: str | None = typer.Option(None, "--data",
                                    help="path to l2r.jsonl.gz (default: shared/data/l2r above the checkout)"),
    out_dir: str | None = typer.Option(None, "--out-dir",
                                          help="where to write the weights (default: the package's models/ folder)"),
    cache: str | None = typer.Option(None, "--embedding-cache",
                                        help="neural: .npy file to reuse/save MiniLM features"),
):
    """Reproduce the shipped detector weights from L2R (deterministic split and solver; byte-identical output).

    The default model takes about 25 minutes on 2 cores: it also fits the 24 leave-one-domain and
    leave-one-generator-out folds whose error rates it stores. The neural head first encodes a fixed
    30% subset of L2R with MiniLM (about 8 minutes on 2 cores; reuse it with --embedding-cache).
    """
    from ..detectors import train as T

    if kind not in ("default", "neural", "all"):
        raise AuditError(f"Unknown --kind {kind!r}; use default, neural or all.")
    d = T.load_l2r(data)
    out = Path(out_dir) if out_dir else T.models_dir()

    def log(msg):
        typer.echo(msg, err=True)

    if kind in ("default", "all"):
        T.train_default(d, out, log)
    if kind in ("neural", "all"):
        T.train_neural(d, out, Path(cache) if cache else None, log)
    from ..detectors.card import write_card
    write_card(out)


@app.command()
@user_errors
def calibrate(
    file: str = typer.Argument(..., help="labelled in-domain records: JSONL(.gz) or Parquet"),
    output: str = typer.Option(..., "--output", "-o", help="calibration YAML to write"),
    label_field: str = typer.Option("label", "--label-field", help="field with the true label"),
    text_field: str = typer.Option("text", "--text-field"),
    human_only: bool = typer.Option(False, "--human-only",
                                    help="FILE holds trusted human records only (no label field): "
                                         "measures the false-positive side alone"),
    synthetic_values: str = typer.Option("synthetic,machine,model-generated,ai,generated,fake,1,true",
                                         "--synthetic-values",
                                         help="comma-separated label values meaning synthetic (others: human)"),
    detector: str = DETECTOR_OPT,
    option: list[str] = OPTION_OPT,
):
    """Measure the detector's score histograms on labelled records from your corpus's domain.

    Reference the file from the policy (detector: {calibration: FILE}); the share estimate then
    uses these error rates and reports the state `calibrated` with the file's name. The file
    records the detector's name, version and weights hash; another detector refuses it."""
    from ..detectors import calibration as C

    if Path(output).resolve() == Path(file).resolve():
        raise AuditError(f"The output {output} is the input file; choose another path.")
    det = _load(detector, option)
    cal = C.measure_file(det, file, text_field=text_field, label_field=label_field, human_only=human_only,
                         synthetic_values=[v for v in synthetic_values.split(",") if v.strip()])
    C.save(cal, output)
    r = cal.rates()
    tpr = f"tpr {r['tpr']:.3f} on {r['n_pos']} synthetic, " if "tpr" in r else ""
    typer.echo(f"calibrated {det.name} ({det.version}): {tpr}fpr {r['fpr']:.3f} on {r['n_neg']} human "
               f"records; wrote {output}", err=True)
