"""The one text module: normalising, tokenising, n-grams, MinHash, per-batch memo and excerpts.

Every check takes its text processing from here; nothing else in the package tokenises (except
the detector, see below). The units:

* ``normalize`` - NFC + whitespace collapsing and the 128-bit exact-duplicate key.
* ``batch``     - the NFC text of a batch as one Arrow buffer and its lower-cased form, computed once
  per batch and shared by both duplicate checks and the corpus-statistics tokeniser (which takes
  the text *as read*: the same array whenever NFC changed no record).
* ``shingles``  - *near-duplicate words*: lower-cased ``\\w+`` runs of the NFC text and k-word
  shingle hashes (the documented definition: 5-word shingles of lower-cased ``\\w+`` tokens, NFC first).
* ``tokens``    - *corpus-statistics tokens*: lower-cased whitespace-separated words with edge
  punctuation stripped, xxh3-64 per distinct token, and the n-gram hashes of diversity, drift
  and contamination.
* ``minhash``   - MinHash signatures: the near-duplicate scheme (32-bit affine permutations of
  shingle hashes) and ``set_signatures`` for the diversity self-similarity sample.
* ``index``     - compact sorted-run index, row store and union-find used by the duplicate checks.
* ``memo``      - ``per_batch``: work derived from a batch computed once for all checks.
* ``excerpt``   - the short single-line excerpts checks keep as report examples.

Where a unit must differ, and why:

* Two tokenisers. Near duplicates use ``\\w+`` runs of NFC text, so "don't" and "don t" shingle
  alike and punctuation never breaks a shingle (the definition the published near-duplicate
  figures and ``benchmarks/check_reference.py`` are checked against). Corpus statistics keep
  whitespace words with edge punctuation stripped, so "don't" and "e-mail" stay one type for
  entropy and distinct-n, and saved baseline profiles name this tokeniser (``profile.TOKENIZER``):
  changing either would change results against stored baselines or the near-duplicate reference.
* Two n-gram hashes. Shingles are polynomial hashes over per-token byte hashes, truncated to 32
  bits (the MinHash input); corpus-statistics n-grams are 64-bit (distinct counts and the
  contamination index need the full width). Each is defined once (``shingles.combine``,
  ``tokens._windows``).
* Two MinHash schemes, for the reasons given in ``minhash``.
* The synthetic-text detector's features (``detectors/features.py``) are part of a trained model:
  its tokenisation is frozen with the weights and is deliberately not shared.

Each vectorised unit has a small pure-Python reference that the tests prove equal to it.
"""

from __future__ import annotations

import importlib
from typing import Any

# Each name is imported from its unit on first use (PEP 562), so importing a light unit such as
# ``text.inert`` - the CLI's error messages do - does not load numpy, pyarrow and the MinHash code.
_UNIT_OF = {
    "excerpt": "excerpt", "per_batch": "memo",
    "MinHasher": "minhash", "reference_signature": "minhash", "set_signatures": "minhash",
    "exact_keys": "normalize", "normalize_text": "normalize", "reference_exact_key": "normalize",
    "batch_shingles": "shingles", "reference_shingles": "shingles", "reference_tokens": "shingles",
    "tokenize_batch": "shingles",
    "Tokens": "tokens", "batch_tokens": "tokens", "iter_ngrams": "tokens", "ngrams": "tokens", "tokenize": "tokens",
}

__all__ = sorted(_UNIT_OF)


def __getattr__(name: str) -> Any:
    unit = _UNIT_OF.get(name)
    if unit is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{unit}"), name)
