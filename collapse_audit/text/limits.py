"""How much of one record the analyses look at: memory bounded by design, not by luck.

The synthetic-text detector, shingling for near-duplicates and the diversity tokeniser look at
the first ``MAX_ANALYSIS_CHARS`` characters of a record (100,000 characters: tens of pages, far
beyond what any of them needs to judge a text). Their working memory is a multiple of the text
they see, so without a cap one 50 MB record took gigabytes. Exact-duplicate keys still hash the
whole record, so two records differing only after the cap are never called identical.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..lazy import np, pa, pc
from .batch import NfcBatch

MAX_ANALYSIS_CHARS = 100_000


def clip_for_analysis(texts: Sequence[str], limit: int = MAX_ANALYSIS_CHARS) -> list[str]:
    """``texts`` with each one cut to its first ``limit`` characters (the same objects when shorter)."""
    return [t if len(t) <= limit else t[:limit] for t in texts]


def clip_nfc(nfc: NfcBatch, limit: int = MAX_ANALYSIS_CHARS) -> NfcBatch:
    """An ``NfcBatch`` with each record cut to its first ``limit`` characters (itself when none is longer)."""
    off = nfc.offsets
    if len(off) < 2 or int(np.diff(off).max()) <= limit:  # bytes >= characters: nothing to cut
        return nfc
    clipped = pc.utf8_slice_codeunits(nfc.array, 0, limit)  # code points, never a split character
    return NfcBatch(clipped.cast(pa.large_string()), nfc.ascii)
