"""Saving a check's compact state as numpy arrays plus JSON, and loading it in another process.

A sharded scan builds each check's state on a shard, saves it (``Check.to_state``: a dict of numpy
arrays for one ``.npz`` and a JSON-able ``meta``), and a later process loads it
(``Check.from_state``) and merges the shards in order (``Check.merge``).

``pack`` walks the attributes a check lists in ``state_attrs`` and turns them into JSON with array
references; numpy arrays (and Arrow arrays, as IPC bytes) go to the array dict. Only the plain
containers below and the state classes in ``STATE_CLASSES`` are accepted, so loading a partial
never imports or runs arbitrary code (``np.load(allow_pickle=False)``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa


def _state_classes() -> dict[str, type]:
    from ..readers.places import Places
    from ..signals.drift import PartitionCounter
    from ..signals.figures import DiversityParams, DiversityState
    from ..sketches.frequent import FrequentItems
    from ..sketches.hll import HyperLogLog
    from ..sketches.vocabulary import VocabularySample
    from ..text.index import RowStore, SortedRuns, UnionFind

    return {c.__name__: c for c in (SortedRuns, RowStore, UnionFind, DiversityState, DiversityParams,
                                    FrequentItems, HyperLogLog, PartitionCounter, VocabularySample, Places)}


class Packer:
    """Collects arrays while turning a value into JSON."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _array(self, a: np.ndarray) -> dict:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = a
        return {"__a": key}

    def pack(self, v: Any) -> Any:
        """``v`` as JSON, its arrays moved to ``self.arrays``."""
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            return {"__f": repr(float(v))}          # keeps nan/inf and every bit of the value
        if isinstance(v, np.ndarray):
            if v.dtype == object:
                return {"__ol": [self.pack(x) for x in v.tolist()]}
            return self._array(v)
        if isinstance(v, np.dtype):
            return {"__dt": v.str}
        if isinstance(v, (pa.Array, pa.ChunkedArray)):
            table = pa.table({"v": v})
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as w:
                w.write_table(table)
            return {"__pa": self._array(np.frombuffer(sink.getvalue().to_pybytes(), dtype=np.uint8))["__a"],
                    "chunked": isinstance(v, pa.ChunkedArray)}
        if isinstance(v, Counter):
            return {"__c": [[self.pack(k), self.pack(x)] for k, x in v.items()]}
        if isinstance(v, dict):
            return {"__m": [[self.pack(k), self.pack(x)] for k, x in v.items()]}
        if isinstance(v, tuple):
            return {"__t": [self.pack(x) for x in v]}
        if isinstance(v, list):
            return [self.pack(x) for x in v]
        name = type(v).__name__
        if name in _state_classes():
            return {"__o": name, "v": self.pack(dict(v.__getstate__()))}   # what pickle would keep
        raise TypeError(f"cannot save a {type(v).__name__} in a check state")


def unpack(v: Any, arrays: Any) -> Any:
    """The value ``pack`` turned into ``v`` (arrays from ``arrays``)."""
    if isinstance(v, list):
        return [unpack(x, arrays) for x in v]
    if not isinstance(v, dict):
        return v
    if "__a" in v:
        return np.array(arrays[v["__a"]])          # a writable copy (shared-memory loads are read-only)
    if "__f" in v:
        return float(v["__f"])
    if "__ol" in v:
        out = np.empty(len(v["__ol"]), dtype=object)
        out[:] = [unpack(x, arrays) for x in v["__ol"]]
        return out
    if "__dt" in v:
        return np.dtype(v["__dt"])
    if "__pa" in v:
        buf = pa.py_buffer(np.asarray(arrays[v["__pa"]]).tobytes())
        col = pa.ipc.open_stream(buf).read_all().column("v")
        return col if v.get("chunked") else col.combine_chunks()
    if "__c" in v:
        return Counter({unpack(k, arrays): unpack(x, arrays) for k, x in v["__c"]})
    if "__m" in v:
        return {_key(unpack(k, arrays)): unpack(x, arrays) for k, x in v["__m"]}
    if "__t" in v:
        return tuple(unpack(x, arrays) for x in v["__t"])
    if "__o" in v:
        cls = _state_classes().get(v["__o"])
        if cls is None:
            raise ValueError(f"unknown state class {v['__o']!r}")
        obj: Any = object.__new__(cls)
        state = unpack(v["v"], arrays)
        if hasattr(cls, "__setstate__"):
            obj.__setstate__(state)
        else:
            obj.__dict__.update(state)
        return obj
    raise ValueError(f"unreadable state entry {sorted(v)[:3]}")


def _key(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


def pack_attrs(obj: Any, names: tuple[str, ...]) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) of the attributes ``names`` of ``obj``."""
    p = Packer()
    meta = {name: p.pack(getattr(obj, name)) for name in names}
    return p.arrays, meta


def unpack_attrs(obj: Any, arrays: Any, meta: dict) -> None:
    """Set the attributes saved by ``pack_attrs`` on ``obj``."""
    for name, value in meta.items():
        setattr(obj, name, unpack(value, arrays))
