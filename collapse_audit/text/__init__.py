"""Vectorised text primitives shared by the duplicate checks.

* ``normalize`` — NFC + whitespace collapsing and the 128-bit exact-duplicate key.
* ``shingles``  — lower-cased ``\\w+`` tokens and k-word shingle hashes for a whole batch.
* ``minhash``   — batch MinHash signatures (numpy, no Python call per shingle) and a plain
  one-document reference implementation of the same scheme.

Each module has a vectorised batch function and a small pure-Python reference that the tests
prove equal to it.
"""

from .minhash import MinHasher, reference_signature
from .normalize import exact_keys, normalize_text, reference_exact_key
from .shingles import batch_shingles, reference_shingles, reference_tokens, tokenize_batch

__all__ = [
    "MinHasher", "reference_signature",
    "exact_keys", "reference_exact_key", "normalize_text",
    "batch_shingles", "reference_shingles", "reference_tokens", "tokenize_batch",
]
