"""Bounded-memory sketches used by the collapse signals (diversity, drift, contamination).

Everything here is numpy-vectorised: a batch of 64-bit hashes goes in as one array, never one
Python call per token.

* ``HyperLogLog`` — distinct counts (token types, distinct n-grams); relative standard error
  ``1.04 / sqrt(2**p)`` (0.81 % at the default p = 14, 16 KiB of registers).
* ``FrequentItems`` — Misra–Gries heavy hitters with exact counts until the table is full and a
  tracked, reported bound afterwards: every stored count is low by at most ``error`` and every
  token not stored occurred at most ``error`` times.
* ``VocabularySample`` — token counts that merge exactly in any order: the whole vocabulary while it
  fits, then every occurrence of the types whose hash falls below a threshold (a bottom-k sample).
* ``hashing`` — 64-bit mixing of hash arrays (splitmix64) and seeded uniform draws.
"""

from .frequent import FrequentItems
from .hashing import mix64, seeded_uniform
from .hll import HyperLogLog
from .vocabulary import VocabularySample

__all__ = ["FrequentItems", "HyperLogLog", "VocabularySample", "mix64", "seeded_uniform"]
