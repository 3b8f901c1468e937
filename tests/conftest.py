"""Fixtures shared by the top-level tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import words, write_jsonl  # noqa: E402


@pytest.fixture
def clean_corpus(tmp_path: Path) -> Path:
    """20 distinct, tagged records."""
    return write_jsonl(tmp_path / "clean.jsonl",
                       [{"id": i, "text": words(i), "provenance": "human", "source": "s"} for i in range(20)])
