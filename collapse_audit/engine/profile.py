"""Build a baseline profile of a trusted corpus through the scan's own reading loop (``scan.stream``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import ScanConfig
from ..readers import BadRecordSink, InputFile, RecordBatch, discover
from ..text.limits import clip_for_analysis
from ..version import __version__
from .executors import stream
from .sample import choose_sample
from .scan import ScanOptions, load_scan_policy, no_records_error, read_batches, scan_config


@dataclass
class ProfileStep:
    """Figures and (optionally) detector scores per batch, folded into a ``ProfileBuilder``."""

    builder: Any                                   # signals.profile.ProfileBuilder
    detector: Any = None
    sample_rows: Mapping[int, np.ndarray] | None = None

    def prepare(self, batch: RecordBatch) -> tuple[dict[str, Any], np.ndarray | None]:
        """Diversity figures of the batch and the sampled records' scores (in a worker)."""
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
                scores = np.asarray(self.detector.score(clip_for_analysis([batch.texts[i] for i in idx])),
                                    dtype=np.float64)
        return part, scores

    def observe(self, batch: RecordBatch, prepared: tuple[dict[str, Any], np.ndarray | None]) -> None:
        """Fold the batch's figures and scores into the builder, in input order."""
        part, scores = prepared
        self.builder.add_part(part, batch.texts)
        if scores is not None:
            self.builder.add_scores(scores)


def _detector(config: ScanConfig, files: list[InputFile]) -> tuple[Any, Any, str | None]:
    """The policy's detector and its seeded sample, or (None, None, why not)."""
    try:
        from ..detectors.registry import load_detector
    except ImportError as exc:  # pragma: no cover - detector package not installed
        return None, None, f"no detector available ({exc})"
    opts = config.option("detector")
    det = load_detector(opts.name, opts.detector_options())
    return det, choose_sample(files, opts.sample, config.seed), None


def build_profile(opts: ScanOptions, *, top_k: int, scores: bool = True) -> dict[str, Any]:
    """The profile document of ``opts.paths`` (see ``signals.profile``), not yet written anywhere."""
    from ..checks.diversity import diversity_params
    from ..signals.profile import ProfileBuilder

    policy = load_scan_policy(opts)
    config = scan_config(policy, opts)
    files = discover(opts.paths)
    sink = BadRecordSink(max_bad=opts.max_bad_records)
    builder = ProfileBuilder(diversity_params(config.option("diversity")), seed=opts.seed,
                             source_field=config.fields.source, top_k=top_k)
    det, rows, note = (None, None, None)
    if scores:
        det, rows, note = _detector(config, files)
    step = ProfileStep(builder, det, rows)
    per_file = stream([step], read_batches(files, config, sink, policy.provenance), len(files), config.workers,
                      progress=opts.progress, label="profiling")
    if builder.state.records == 0:
        raise no_records_error(files, sink)
    if det is not None:
        builder.detector = det.describe().get("name", config.option("detector").name)
    inputs = [{"path": f.path, "format": f.format, "records": per_file[i]} for i, f in enumerate(files)]
    data: dict[str, Any] = builder.build(inputs=inputs, tool_version=__version__)
    data["records_skipped"] = sink.count
    if note:
        data["scores_note"] = note
    return data
