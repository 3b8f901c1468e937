"""``collapse-audit profile``: freeze a compact baseline profile of a trusted corpus."""

from __future__ import annotations

import sys
from typing import Any, Optional

import numpy as np
import typer

from ..errors import AuditError
from ..outputs import atomic_path, check_outputs
from ..text.inert import inert
from ..text.limits import clip_for_analysis
from .common import user_errors


class _ProfileStep:
    """Adapter so the profile pass runs through the scan engine's parallel prepare/observe loop
    (which only calls ``prepare``; it is not a registered check)."""

    def __init__(self, config, builder, detector=None, sample_rows=None):
        self.builder = builder
        self.detector = detector
        self.sample_rows = sample_rows

    def prepare(self, batch):
        from ..signals.figures import prepare_part

        b = self.builder
        part = prepare_part(batch, b.params, b.seed, b.source_field)
        scores = None
        if self.detector is not None:
            if self.sample_rows is None:
                idx = np.arange(len(batch))
            else:
                chosen = self.sample_rows.get(batch.file_index, np.zeros(0, np.int64))
                idx = np.flatnonzero(np.isin(np.asarray(batch.rows, dtype=np.int64), chosen))
            if len(idx):
                scores = np.asarray(self.detector.score(clip_for_analysis([batch.texts[i] for i in idx])), dtype=np.float64)
        return part, scores

    def observe(self, batch, prepared) -> None:
        part, scores = prepared
        self.builder.add_part(part, batch.texts)
        if scores is not None:
            self.builder.add_scores(scores)


@user_errors
def profile(
    paths: list[str] = typer.Argument(..., help="The trusted corpus: Parquet or JSONL files, directories or globs.",
                                      show_default=False),
    output: str = typer.Option(..., "--output", "-o", help="Where to write the profile JSON."),
    policy: Optional[str] = typer.Option(None, "--policy", "-p", help="Policy YAML (fields, diversity settings, "
                                         "detector). Default as for scan."),
    text_field: Optional[str] = typer.Option(None, "--text-field", help="Field holding the text."),
    detector: Optional[str] = typer.Option(None, "--detector", help="Detector whose score histogram the profile "
                                           "keeps (for drift.score_psi). Default from the policy."),
    sample: Optional[int] = typer.Option(None, "--sample", min=0, help="Score at most N records (0 = all). "
                                         "Default from the policy."),
    no_scores: bool = typer.Option(False, "--no-scores", help="Do not run the detector; the profile then has "
                                   "no score histogram and scans against it report no drift.score_psi."),
    top_k: int = typer.Option(65536, "--top-k", min=16, help="Most frequent tokens kept exactly in the token "
                              "distribution sketch (the rest go to 65,536 hash buckets)."),
    max_bad_records: int = typer.Option(0, "--max-bad-records", min=0, help="Tolerate up to N unreadable records."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed for the self-similarity and detector samples."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help="Worker processes (default: all CPUs)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary on stderr."),
) -> None:
    """Freeze a baseline profile of a trusted (human) corpus for `scan --baseline`.

    The profile is one small JSON file (a few MB at most, whatever the corpus size): the token
    distribution sketch, token-length and synthetic-score histograms, and the diversity figures.
    `scan --baseline FILE` then reports drift.* metrics (Jensen-Shannon and KL divergence, PSI,
    changes in diversity) that rules CA4xx can cap.
    """
    from .. import __version__
    from ..checks.diversity import diversity_params
    from ..engine.parallel import prepared_batches
    from ..engine.progress import progress_bar
    from ..engine.scan import ScanOptions, default_workers, read_batches, scan_config
    from ..policy import load_policy, resolve_policy_path
    from ..readers import BadRecordSink, discover
    from ..signals.profile import ProfileBuilder, save_profile

    check_outputs([output], [*paths, *([policy] if policy else [])])  # before anything is read
    opts = ScanOptions(paths=paths, policy=policy, text_field=text_field, detector=detector, sample=sample,
                       max_bad_records=max_bad_records, seed=seed, workers=workers or default_workers())
    pol = load_policy(resolve_policy_path(policy))
    config = scan_config(pol, opts)
    files = discover(paths)
    sink = BadRecordSink(max_bad=max_bad_records)
    builder = ProfileBuilder(diversity_params(config.option("diversity")), seed=seed,
                             source_field=config.fields.source, top_k=top_k)
    det, rows, det_note = None, None, None
    if not no_scores:
        det, rows, det_note = _detector(config, files)
    step = _ProfileStep(config, builder, det, rows)
    per_file = [0] * len(files)
    with progress_bar(not quiet, "profiling") as advance:
        for batch, prepared in prepared_batches([step], read_batches(files, config, sink), config.workers):
            step.observe(batch, prepared[0])
            per_file[batch.file_index] += len(batch)
            advance(len(batch))
    if builder.state.records == 0:
        raise AuditError(f"No records found in {', '.join(f.path for f in files)} (the input is empty).")
    if det is not None:
        builder.detector = det.describe().get("name", config.option("detector").name)
    inputs = [{"path": f.path, "format": f.format, "records": per_file[i]} for i, f in enumerate(files)]
    data = builder.build(inputs=inputs, tool_version=__version__)
    data["records_skipped"] = sink.count
    if det_note:
        data["scores_note"] = det_note
    with atomic_path(output) as tmp:  # the previous profile survives a failed write
        size = save_profile(data, tmp)
    if not quiet:
        f = data["figures"]
        sys.stderr.write(
            f"collapse-audit: profile of {data['records']:,} records written to {inert(output)} ({size / 1e6:.2f} MB): "
            f"entropy {f['token_entropy']:.2f} bits, distinct-2 {f['distinct_2']:.3f}, "
            f"{int(f['types']):,} token types"
            f"{'' if data['scores'] else '; no score histogram'}\n")


def _detector(config, files) -> tuple[Any, Any, str | None]:
    """The policy's detector and its seeded sample, or (None, None, why not)."""
    try:
        from ..detectors.registry import load_detector
        from ..engine.sample import choose_sample
    except ImportError as exc:  # pragma: no cover - detector package not installed
        return None, None, f"no detector available ({exc})"
    opts = config.option("detector")      # always set by scan_config (with the CLI overrides)
    det = load_detector(opts.name, opts.detector_options())
    return det, choose_sample(files, opts.sample, config.seed), None
