"""Load what the collapse-signal checks need before a scan: the baseline profile, the eval index.

The engine calls ``load_resources(config, read_batches)`` once and hands the dict to every check
(``Check(config, resources)``); checks never touch the filesystem themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..config import ScanConfig
from ..errors import AuditError
from .eval_index import DEFAULT_NGRAM, build_eval_index
from .figures import DIVERSITY_OPTIONS
from .profile import load_profile

#: every key the policy's ``contamination:`` section may hold (for the policy loader's validation)
CONTAMINATION_OPTIONS = ("ngram", "threshold", "max_listed", "max_pairs")
#: section -> allowed keys, for ``policy.load`` to reject typos with file and line
KNOWN_OPTIONS = {"diversity": DIVERSITY_OPTIONS, "contamination": CONTAMINATION_OPTIONS}


def load_resources(config: ScanConfig, read_batches: Callable[[list[str]], Iterator[Any]]) -> dict:
    """``{"baseline": Profile}`` when ``config.baseline`` is set, ``{"eval_index": EvalIndex}`` when
    ``config.eval_sets`` is non-empty. ``read_batches(paths)`` yields ``RecordBatch`` objects (the
    engine's reader, same text field and bad-record handling as the scan)."""
    out: dict[str, Any] = {}
    if config.baseline:
        out["baseline"] = load_profile(config.baseline)
    if config.eval_sets:
        ngram = int((config.contamination or {}).get("ngram", DEFAULT_NGRAM))
        if not 1 <= ngram <= 64:
            raise AuditError(f"contamination.ngram must be between 1 and 64 (got {ngram}).")
        sets: Iterable = ((path, read_batches([path])) for path in config.eval_sets)
        out["eval_index"] = build_eval_index(sets, ngram=ngram, id_field=config.fields.id)
    return out
