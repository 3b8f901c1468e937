"""The earlier snapshot that ``scan --against STATE`` compares with: its saved duplicate indexes.

``STATE`` is a complete state directory (``scan --partial DIR`` of the earlier snapshot in one
shard, i.e. ``--shard 0/1`` or no ``--shard``). Its exact-duplicate and near-duplicate states are
loaded read-only through the partials' validated reader. Only what decides the duplicate keys must
match this scan's - the key scheme (normalisation and hashes), the seed and the near-duplicate
settings (shingle size, ``num_perm``, threshold, which fixes the LSH bands) - or the keys would not
be comparable (exit 2 saying which); the tool version and the policy may differ, since the earlier
snapshot is another corpus by design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks.base import CheckContext
from ..checks.exact_duplicates import ExactDuplicates
from ..checks.near_duplicates import NearDuplicates
from ..config import ScanConfig
from ..errors import AuditError
from ..readers.places import NO_LINE
from ..result.locations import record_location
from .partials import KEY_SCHEME, read_manifest, read_state


@dataclass
class Previous:
    """The earlier snapshot's duplicate states, read-only."""
    exact: ExactDuplicates
    near: NearDuplicates
    records: int
    inputs: list[Any]

    def where(self, i: int) -> str:
        """Where the earlier snapshot's record ``i`` is: ``FILE:LINE`` in a line format, else ``FILE row N``."""
        return self.where_all(np.array([i], dtype=np.int64))[0]

    def where_all(self, idx: np.ndarray) -> list[str]:
        """``where`` of every record in ``idx``, looked up together (a scan labels each record it has
        seen before, so this runs once per such record in the main process)."""
        places, names = self.exact.places, self.exact.files
        file_idx, rows = places.file_rows(idx)
        lines = places.lines(idx)
        return [record_location(names.get(f, "?"), row, None if line == NO_LINE else line)
                for f, row, line in zip(file_idx.tolist(), rows.tolist(), lines.tolist(), strict=True)]

    def describe(self) -> dict[str, Any]:
        """What the report says about the earlier snapshot."""
        return {"records": self.records, "inputs": self.inputs}


def load_previous(directory: str, config: ScanConfig) -> Previous:
    """The earlier snapshot's state from ``directory``, checked against this scan's settings."""
    manifest = read_manifest(directory)
    i, n = manifest["shard"]
    if n != 1:
        raise AuditError(f"--against needs a complete state: {directory} is shard {i}/{n} (scan the earlier "
                         "snapshot with --partial and no --shard, or merge its shards first).")
    if manifest.get("key_scheme") != KEY_SCHEME:
        raise AuditError(f"--against {directory}: the earlier state's duplicate keys were made by another scheme "
                         f"({manifest.get('key_scheme')!r}, this collapse-audit uses {KEY_SCHEME}); scan the earlier "
                         "snapshot again with --partial.")
    if manifest.get("seed") != config.seed:
        raise AuditError(f"--against {directory}: the earlier state was scanned with --seed {manifest.get('seed')}, "
                         f"this scan uses --seed {config.seed}; MinHash signatures differ across seeds.")
    near_opts = NearDuplicates.options_from(config)
    saved = (manifest.get("options") or {}).get("near_duplicates")
    if saved is not None and saved != {k: getattr(near_opts, k) for k in saved}:
        raise AuditError(f"--against {directory}: the earlier state used near-duplicate settings {saved}, this "
                         "scan's policy differs; use the same near_duplicates section.")
    states: dict[str, Any] = {}
    for cls in (ExactDuplicates, NearDuplicates):
        if cls.name not in manifest.get("checks", []):
            raise AuditError(f"--against {directory}: the earlier state has no {cls.name} state.")
        arrays, meta = read_state(directory, f"check-{cls.name}", manifest)
        ctx = CheckContext(fields=config.fields, options=cls.options_from(config), seed=config.seed)
        states[cls.name] = cls.from_state(ctx, arrays, meta)
    return Previous(exact=states["exact_duplicates"], near=states["near_duplicates"],
                    records=int(manifest["reading"]["records"]), inputs=list(manifest.get("inputs", [])))
