"""A cache of witness scores keyed by (weights SHA-256, text SHA-256), so each text is scored once.

The language-model witness costs about a third of a second per record on two CPU cores; a corpus
audited every night, an evaluation grid that draws many corpora from one pool, and the test
suite's fixtures would otherwise pay that again and again for identical texts. The key is the
SHA-256 of the exact text the witness read, and the file records the SHA-256 of the weights that
produced the scores and the truncation, so a cache from other weights is refused, never mixed in.

Format: one Parquet file, column ``text_sha256`` (hex) plus one float64 column per feature; the
weights hash, witness version and ``max_tokens`` in the schema metadata.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import AuditError

META_KEYS = ("weights_sha256", "witness", "max_tokens")


def text_key(text: str) -> str:
    """The cache key of a text: SHA-256 of its UTF-8 bytes (surrogates escaped), hex."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class ScoreCache:
    """Features per text key for one (weights, witness version, truncation)."""

    def __init__(self, weights_sha256: str, witness: str, max_tokens: int, features: Sequence[str]):
        self.meta = {"weights_sha256": weights_sha256, "witness": witness, "max_tokens": str(int(max_tokens))}
        self.features = tuple(features)
        self.rows: dict[str, np.ndarray] = {}
        self.added = 0

    def lookup(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, ``(n, n_features)`` values with NaN where not found)."""
        out = np.full((len(keys), len(self.features)), np.nan)
        found = np.zeros(len(keys), dtype=bool)
        for i, k in enumerate(keys):
            v = self.rows.get(k)
            if v is not None:
                out[i] = v
                found[i] = True
        return found, out

    def add(self, keys: Sequence[str], values: np.ndarray) -> None:
        """Remember these texts' features (rows of ``values``)."""
        for k, v in zip(keys, np.asarray(values, dtype=np.float64), strict=True):
            if k not in self.rows:
                self.added += 1
            self.rows[k] = v

    @classmethod
    def load(cls, path: str | Path, weights_sha256: str, witness: str, max_tokens: int,
             features: Sequence[str]) -> ScoreCache:
        """The cache at ``path`` (an empty one when the file does not exist yet); a file written for
        other weights, another witness version or another truncation is an error naming it."""
        cache = cls(weights_sha256, witness, max_tokens, features)
        p = Path(path)
        if not p.exists():
            return cache
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(p)
        except Exception as exc:
            raise AuditError(f"{p} is not a readable score cache ({type(exc).__name__}).") from None
        meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        for key in META_KEYS:
            if meta.get(key) != cache.meta[key]:
                raise AuditError(f"{p} holds scores for {key} {meta.get(key)!r}, not {cache.meta[key]!r}; "
                                 f"use another cache file or delete it.")
        missing = [c for c in ("text_sha256", *cache.features) if c not in table.column_names]
        if missing:
            raise AuditError(f"{p} lacks the score-cache column(s) {', '.join(missing)}.")
        keys = table.column("text_sha256").to_pylist()
        values = np.column_stack([table.column(f).to_numpy(zero_copy_only=False).astype(np.float64)
                                  for f in cache.features])
        cache.rows = dict(zip(keys, values, strict=True))
        return cache

    def save(self, path: str | Path) -> None:
        """Write the cache atomically, rows sorted by key (the same content gives the same file)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        keys = sorted(self.rows)
        values = np.array([self.rows[k] for k in keys], dtype=np.float64).reshape(len(keys), len(self.features))
        cols = {"text_sha256": pa.array(keys, pa.string())}
        cols.update({f: pa.array(values[:, j]) for j, f in enumerate(self.features)})
        table = pa.table(cols).replace_schema_metadata({k: v for k, v in self.meta.items()})
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + f".tmp-{os.getpid()}")
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, p)
