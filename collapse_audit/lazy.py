"""The heavy libraries, imported on first use: ``from ..lazy import np, pa, pc``.

Reading the check declarations (``rules list``, ``rules explain``, ``schema policy``, the CLI's
option checks) loads every check module, and those modules compute with numpy and pyarrow. Taking
the libraries from here instead of ``import numpy as np`` lets a declaration be read without
paying for numpy, pyarrow (and through it pandas) or xxhash: each name stands for its module and
imports it the first time an attribute is read. The names keep their full types for mypy.

A stand-in copies each attribute onto itself when first read, so after a scan's first batch a
lookup such as ``np.zeros`` costs what it costs on the module itself (no import machinery per
call). The import runs under the interpreter's import lock, so threads that use a stand-in first
at the same time import the module once. Unlike ``importlib.util.LazyLoader``, a stand-in never
replaces the real module in ``sys.modules``: ``import numpy`` anywhere else gets numpy itself.

Module-level *values* built with these libraries (dtype tables, ``np.uint64`` constants) would
still import them at module load; such values are built on first use (``functools.cache``).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any


class LazyModule(types.ModuleType):
    """Stands for the module of the same name until an attribute is read, then forwards to it."""

    def __getattr__(self, attr: str) -> Any:
        # only called for attributes not yet copied here (and never for dunders the stand-in has)
        value = getattr(importlib.import_module(self.__name__), attr)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self.__name__!r}>"


def lazy_import(name: str) -> Any:
    """A stand-in for module ``name`` that imports it on first attribute access (the module itself
    when it is already imported)."""
    return sys.modules.get(name) or LazyModule(name)


if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import xxhash
else:
    np = lazy_import("numpy")
    pa = lazy_import("pyarrow")
    pc = lazy_import("pyarrow.compute")
    xxhash = lazy_import("xxhash")

__all__ = ["LazyModule", "lazy_import", "np", "pa", "pc", "xxhash"]
