"""Shared by the hostile-input tests of the new surface: canary secrets and a clean-ending check."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: values no output may ever contain: a URL's user part and password, a signed URL's signature,
#: and credentials from the environment
CANARY_KEY = "CANARYKEYID7QX2"
CANARY_SECRET = "canarySecret+9f3/ZZq"
CANARY_SIGNATURE = "canarysig0a1b2c3d4e5f"
CANARY_ENV_SECRET = "canaryEnvSecret5b6c7d8e"
CANARIES = (CANARY_KEY, CANARY_SECRET, CANARY_SIGNATURE, CANARY_ENV_SECRET, "canarySecret")


def assert_no_canary(*texts: str | bytes) -> None:
    """No canary, in any form, in any of ``texts``."""
    for text in texts:
        s = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        for canary in CANARIES:
            assert canary not in s, f"credential {canary!r} leaked into an output"


def assert_one_clean_line(stderr: str, *must_name: str) -> str:
    """Exactly one ``collapse-audit: error:`` line, naming what it must, with no traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("collapse-audit: error: "), stderr
    assert "Traceback" not in stderr and "\x1b[" not in stderr
    for name in must_name:
        assert name in lines[0], lines[0]
    return lines[0]
