"""Load what the collapse-signal checks need before a scan: the baseline profile, the eval index.

The engine calls ``load_resources(config, read_batches)`` once and hands the dict to every check
(``checks.registry.build_checks``); checks never touch the filesystem themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..config import ScanConfig
from .eval_index import DEFAULT_NGRAM, build_eval_index
from .profile import load_profile


def load_resources(config: ScanConfig, read_batches: Callable[[list[str]], Iterator[Any]]) -> dict:
    """``{"baseline": Profile}`` when ``config.baseline`` is set, ``{"eval_index": EvalIndex}`` when
    ``config.eval_sets`` is non-empty. ``read_batches(paths)`` yields ``RecordBatch`` objects (the
    engine's reader, same text field and bad-record handling as the scan)."""
    out: dict[str, Any] = {}
    if config.baseline:
        out["baseline"] = load_profile(config.baseline)
    if config.eval_sets:
        # the policy's contamination options, validated at load (``checks.contamination``)
        opts = config.option("contamination")
        ngram = int(opts.ngram) if opts is not None else DEFAULT_NGRAM
        sets: Iterable = ((path, read_batches([path])) for path in config.eval_sets)
        out["eval_index"] = build_eval_index(sets, ngram=ngram, id_field=config.fields.id)
    return out
