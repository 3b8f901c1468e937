"""The NFC text of a batch as one Arrow array, computed once per batch for every check.

Both duplicate checks start from the NFC form of the texts. ``nfc_batch`` builds it (records that
are pure ASCII are already NFC and skip the call) and keeps it for the batch being prepared, so
when the checks' ``prepare`` run one after the other on the same batch — in the main process or in
one worker — the work is done once. It also records which records NFC changed: when none did (the
usual case) the same array, and its lower-cased form (``arrow_lower``), serve the corpus-statistics
tokeniser too, which is defined on the text as read; otherwise ``raw_array`` rebuilds that text.
Building the Arrow array is the costly part (encoding every Python string to UTF-8), so sharing it
saves a pass per batch.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ..lazy import np, pa, pc
from .memo import per_batch


@dataclass
class NfcBatch:
    """A batch's NFC texts in Arrow plus what the checks derive from them once (ASCII flags, the
    lower-cased array, the records NFC changed), so the checks preparing it share the work."""

    array: pa.LargeStringArray     # NFC texts
    ascii: np.ndarray              # bool per record: pure ASCII
    _lead: np.ndarray | None = None  # positions of UTF-8 lead bytes of non-ASCII characters
    changed: np.ndarray | None = None  # records whose NFC form differs from the text as read
    _raw: list[str] | None = None          # the texts as read (to rebuild ``changed`` records)
    _lower: pa.LargeStringArray | None = None

    def raw_array(self) -> pa.LargeStringArray:
        """The texts *as read* as one Arrow array: the NFC array itself when normalising changed
        nothing (the usual case), else that array with the changed records put back."""
        if self.changed is None or len(self.changed) == 0:
            return self.array
        assert self._raw is not None, "changed records are kept with the texts as read"
        fixed = pa.array([self._raw[int(i)] for i in self.changed], type=pa.large_string())
        n = len(self.array)
        idx = np.arange(n)
        idx[self.changed] = n + np.arange(len(self.changed))
        return pa.concat_arrays([self.array, fixed]).take(pa.array(idx))

    def arrow_lower(self) -> pa.LargeStringArray:
        """``pc.utf8_lower`` of the NFC texts, computed once."""
        if self._lower is None:
            self._lower = pc.utf8_lower(self.array)
        return self._lower

    def __len__(self) -> int:
        return len(self.array)

    def _abs_offsets(self) -> np.ndarray:
        a = self.array
        return np.frombuffer(a.buffers()[1], dtype=np.int64, count=a.offset + len(a) + 1)[a.offset:]

    @property
    def offsets(self) -> np.ndarray:
        """Byte offsets of the records in ``data()`` (starting at 0)."""
        off = self._abs_offsets()
        return off - off[0]

    def data(self) -> np.ndarray:
        """The UTF-8 bytes of these records, back to back (a view, no copy)."""
        off = self._abs_offsets()
        if len(self.array) == 0 or off[-1] == off[0]:
            return np.zeros(0, dtype=np.uint8)
        return np.frombuffer(self.array.buffers()[2], dtype=np.uint8, count=int(off[-1]))[off[0]:]

    def slice(self, start: int, stop: int) -> NfcBatch:
        """Records ``start:stop`` (their lower-cased text sliced from the whole batch's, so the
        lower-casing is done once for all the batch's users)."""
        return NfcBatch(self.array.slice(start, stop - start), self.ascii[start:stop],
                        _lower=self.arrow_lower().slice(start, stop - start))

    def chunks(self, max_bytes: int):
        """(start, stop, NfcBatch) pieces of at most ``max_bytes`` of text (one record at least):
        per-batch temporaries scale with the text, so this bounds a worker's memory."""
        off = self.offsets
        start, n = 0, len(self)
        while start < n:
            stop = int(np.searchsorted(off, off[start] + max_bytes, side="right")) - 1
            stop = min(max(stop, start + 1), n)
            yield start, stop, self.slice(start, stop)
            start = stop

    def records_containing(self, chars) -> np.ndarray:
        """Sorted indices of the records holding any of ``chars`` (non-ASCII characters), found
        with numpy over the UTF-8 bytes: candidates are the positions of matching lead bytes."""
        raw = self.data()
        if self._lead is None:
            self._lead = np.flatnonzero(raw >= 0xC2)
        lead = self._lead
        found = []
        for ch in chars:
            seq = ch.encode("utf-8")
            cand = lead[raw[lead] == seq[0]]
            for j in range(1, len(seq)):
                cand = cand[cand + j < len(raw)]
                cand = cand[raw[cand + j] == seq[j]]
            found.append(cand)
        pos = np.concatenate(found) if len(found) > 1 else found[0]
        if len(found) > 1:
            pos.sort()
        return sorted_unique(np.searchsorted(self.offsets, pos, side="right") - 1)


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` of an already sorted array, without sorting it again."""
    if len(a) < 2:
        return a
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def nfc_texts(texts: list[str]) -> NfcBatch:
    """Normalise ``texts`` to NFC (pure-ASCII records skip the call) and note which ones changed."""
    ascii_ = np.fromiter((t.isascii() for t in texts), dtype=bool, count=len(texts))
    changed = None
    if ascii_.all():
        nfc = texts
    else:
        norm = unicodedata.normalize
        nfc = [t if a else norm("NFC", t) for t, a in zip(texts, ascii_.tolist(), strict=True)]
        changed = np.array([i for i in np.flatnonzero(~ascii_).tolist() if nfc[i] != texts[i]], dtype=np.int64)
    return NfcBatch(pa.array(nfc, type=pa.large_string()), ascii_, changed=changed,
                    _raw=texts if changed is not None and len(changed) else None)


@per_batch
def nfc_batch(batch) -> NfcBatch:
    """``nfc_texts(batch.texts)``, shared by the checks preparing the same batch object."""
    return nfc_texts(batch.texts)
