"""NFC + whitespace collapsing, and the 128-bit key that defines an exact duplicate.

Two records are exact duplicates when ``" ".join(unicodedata.normalize("NFC", text).split())``
is the same string. Their key is the xxh3-128 digest of that string's UTF-8 bytes.

The batch version never builds the collapsed strings in Python: it takes the batch's NFC text as
one Arrow buffer (``batch.py``), collapses ASCII whitespace runs with a numpy mask over the bytes,
and hashes each record's byte slice. Records that start with whitespace or hold one of Python's
*non-ASCII* whitespace characters (NBSP, U+2000…, U+3000, …; rare) take the plain Python path, so
the result is exactly ``str.split()``'s.
"""

from __future__ import annotations

import functools
import unicodedata

from ..lazy import np, xxhash
from .batch import NfcBatch, nfc_texts

# Everything ``str.isspace`` (and so ``str.split()``) treats as whitespace.
_ASCII_WS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_NON_ASCII_WS = "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
                "\u2028\u2029\u202f\u205f\u3000"


@functools.cache
def _is_ws() -> np.ndarray:
    """Byte -> is ASCII whitespace (built on first use: importing this module does not import numpy)."""
    table = np.zeros(256, dtype=bool)
    table[[ord(c) for c in _ASCII_WS]] = True
    table.flags.writeable = False
    return table


def normalize_text(text: str) -> str:
    """The canonical form exact duplicates are compared in (reference, one record)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def reference_exact_key(text: str) -> bytes:
    """16-byte xxh3-128 digest of the canonical form (reference, one record)."""
    return xxhash.xxh3_128_digest(normalize_text(text).encode("utf-8"))


def exact_keys(texts: list[str], nfc: NfcBatch | None = None) -> np.ndarray:
    """xxh3-128 keys of a batch as a ``(n, 2)`` uint64 array (big-endian halves of the digest).

    Row ``i`` equals ``reference_exact_key(texts[i])`` read as two big-endian uint64.
    """
    n = len(texts)
    if n == 0:
        return np.zeros((0, 2), dtype=np.uint64)
    nfc = nfc if nfc is not None else nfc_texts(texts)
    offsets = nfc.offsets
    raw = nfc.data()
    size = len(raw)
    digests: list[bytes | None] = [None] * n
    if size == 0:
        empty = xxhash.xxh3_128_digest(b"")
        return _to_array([empty] * n)

    # Whitespace is found from the positions of bytes <= 0x20 (all ASCII whitespace is, and few
    # bytes are): a 256-entry table lookup over every byte costs more than the rest together.
    is_ws = _is_ws()
    cand = np.flatnonzero(raw <= 0x20)
    pos = cand[is_ws[raw[cand]]]                       # whitespace bytes, ascending
    lengths = np.diff(offsets)
    nonempty = lengths > 0
    # Slow path (exactly str.split()): records with non-ASCII whitespace, or leading whitespace.
    slow = np.zeros(n, dtype=bool)
    slow[nonempty] = is_ws[raw[offsets[:-1][nonempty]]]
    if not nfc.ascii.all():
        slow[nfc.records_containing(_NON_ASCII_WS)] = True
    for i in np.flatnonzero(slow).tolist():
        digests[i] = reference_exact_key(texts[i])

    # Fast path: a whitespace byte survives only as the last byte of its run when a non-ws byte
    # of the same record follows (runs at the start are the slow path's; runs at the end vanish).
    # So it is dropped when the next byte is whitespace too, or when it ends its record.
    last_byte = np.zeros(size + 1, dtype=bool)
    last_byte[offsets[1:][nonempty] - 1] = True
    drop = last_byte[pos]
    drop[:-1] |= pos[1:] == pos[:-1] + 1
    dropped = pos[drop]
    to_space = pos[~drop]
    to_space = to_space[raw[to_space] != 0x20]        # kept whitespace becomes one space
    if len(dropped) or len(to_space):
        out = raw.copy()
        out[to_space] = 0x20
        if len(dropped):
            per_doc = np.bincount(np.searchsorted(offsets, dropped, side="right") - 1, minlength=n)
            out = np.delete(out, dropped)
        else:
            per_doc = np.zeros(n, dtype=np.int64)
    else:
        per_doc = np.zeros(n, dtype=np.int64)
        out = raw
    new_off = np.concatenate(([0], np.cumsum(lengths - per_doc))).tolist()
    mv = memoryview(out)
    h = xxhash.xxh3_128_digest
    for i in range(n):
        if digests[i] is None:
            digests[i] = h(mv[new_off[i]:new_off[i + 1]])
    return _to_array(digests)


def _to_array(digests) -> np.ndarray:
    return np.frombuffer(b"".join(digests), dtype=">u8").reshape(-1, 2).astype(np.uint64)


def key_to_bytes(row: np.ndarray) -> bytes:
    """A 128-bit key row as 16 big-endian bytes (the same bytes as the xxh3-128 digest it came from)."""
    return np.asarray(row, dtype=">u8").tobytes()
