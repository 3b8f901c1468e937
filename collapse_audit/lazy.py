"""The heavy libraries, imported on first use: ``from ..lazy import np, pa, pc``.

Reading the check declarations (``rules list``, ``rules explain``, ``schema policy``, the CLI's
option checks) loads every check module, and those modules compute with numpy and pyarrow. Taking
the libraries from here instead of ``import numpy as np`` lets a declaration be read without
paying for numpy, pyarrow (and through it pandas) or xxhash: each name stands for its module and
imports it the first time an attribute is read. The names keep their full types for mypy.

On first use a stand-in imports its module, takes a copy of the module's namespace and becomes a
plain module object, so from then on a lookup such as ``np.zeros`` costs exactly what it costs on
numpy itself (a hot loop pays no import machinery); a name the module gains later (a submodule
imported afterwards) is read from the module through the copy's ``__getattr__`` (PEP 562), but a
name the module *rebinds* later is not seen: this is for libraries, whose names stay put (the
package's own modules are imported in the functions that need them instead, as ``checks.synthetic``
does). The import runs under the interpreter's import lock, so threads that use a stand-in first at
the same time import the module once. Unlike ``importlib.util.LazyLoader``, a stand-in never replaces the
real module in ``sys.modules`` (``import numpy`` anywhere else gets numpy itself), and a dotted
name such as ``pyarrow.compute`` does not import its parent package before it is used.

Module-level *values* built with these libraries (dtype tables, ``np.uint64`` constants) would
still import them at module load; such values are built on first use (``functools.cache``).
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
from typing import TYPE_CHECKING, Any


class LazyModule(types.ModuleType):
    """Stands for the module of the same name until an attribute is read, then becomes its copy."""

    def __getattr__(self, attr: str) -> Any:
        # called only before the first use: afterwards this object is a plain module
        module = importlib.import_module(self.__name__)
        self.__dict__.update(vars(module))
        self.__dict__["__getattr__"] = functools.partial(getattr, module)
        self.__class__ = types.ModuleType  # type: ignore[assignment]  # what LazyLoader does too
        return getattr(module, attr)

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
    import pyarrow.dataset as ds
    import xxhash
else:
    np = lazy_import("numpy")
    pa = lazy_import("pyarrow")
    pc = lazy_import("pyarrow.compute")
    ds = lazy_import("pyarrow.dataset")     # with pyarrow.compute: ~90 ms a JSON Lines scan need not pay
    xxhash = lazy_import("xxhash")

__all__ = ["LazyModule", "ds", "lazy_import", "np", "pa", "pc", "xxhash"]
