"""The package version, read from the installed distribution's metadata.

Kept in its own bottom-layer module so every layer (the engine writes it into each result) can
import it without importing the package root, which is the public API at the top.
"""

from __future__ import annotations

import os
import re
from importlib import metadata

DISTRIBUTION = "collapse-audit"


def read_version() -> str:
    """The installed distribution's version, else the one in the source tree's pyproject.toml."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    pyproject = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pyproject.toml")
    try:
        with open(pyproject, encoding="utf-8") as fh:
            found = re.search(r'^version\s*=\s*"([^"]+)"', fh.read(), re.MULTILINE)
    except OSError:
        found = None
    return found.group(1) if found else "0+unknown"


__version__ = read_version()
