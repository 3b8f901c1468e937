"""Load what the collapse-signal checks need before a scan: the baseline profile, the eval index.

The engine calls ``load_resources(config, read_batches)`` once and hands the dict to every check
(``checks.registry.build_checks``); checks never touch the filesystem themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from ..config import FieldMap, ScanConfig
from .eval_index import DEFAULT_NGRAM, build_eval_index
from .profile import load_profile


def eval_config(config: ScanConfig) -> ScanConfig:
    """How eval sets are read: their own text spec (``--eval-text-field``, parsed as ``fields.text``
    is: joins such as ``question+answer``, dotted paths, chat turns), else the corpus's.

    Only the text and the id are read: an eval file has no reason to carry the corpus's
    provenance, source or licence fields, and requiring them would reject a plain benchmark file.
    """
    f = config.fields
    text = config.eval_text_field or f.text
    return replace(config, fields=FieldMap(text=text, id=f.id, provenance=None, source=None, license=None,
                                           required=(), text_roles=f.text_roles))


def load_resources(config: ScanConfig,
                   read_batches: Callable[[list[str], ScanConfig], Iterator[Any]]) -> dict:
    """``{"baseline": Profile}`` when ``config.baseline`` is set, ``{"eval_index": EvalIndex}`` when
    ``config.eval_sets`` is non-empty. ``read_batches(paths, config)`` yields ``RecordBatch`` objects
    (the engine's reader with the given fields, same bad-record handling as the scan)."""
    out: dict[str, Any] = {}
    if config.baseline:
        out["baseline"] = load_profile(config.baseline)
    if config.eval_sets:
        # the policy's contamination options, validated at load (``checks.contamination``)
        opts = config.option("contamination")
        ngram = int(opts.ngram) if opts is not None else DEFAULT_NGRAM
        cfg = eval_config(config)
        sets: Iterable = ((path, read_batches([path], cfg)) for path in config.eval_sets)
        out["eval_index"] = build_eval_index(sets, ngram=ngram, id_field=cfg.fields.id)
    return out
