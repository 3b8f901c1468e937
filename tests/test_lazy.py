"""``collapse_audit.lazy``: a stand-in imports its module on first use, then is a copy of it."""

from __future__ import annotations

import sys
import types

import pytest

from collapse_audit.lazy import LazyModule, lazy_import

# A standard-library module nothing in the package or the test run imports.
NAME = "colorsys"


@pytest.fixture
def not_imported():
    saved = sys.modules.pop(NAME, None)
    yield
    if saved is not None:
        sys.modules[NAME] = saved
    else:
        sys.modules.pop(NAME, None)


@pytest.mark.usefixtures("not_imported")
def test_a_stand_in_imports_its_module_on_first_use_and_keeps_what_it_read() -> None:
    mod = lazy_import(NAME)
    assert isinstance(mod, LazyModule) and NAME not in sys.modules
    assert mod.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    real = sys.modules[NAME]
    # now a plain module holding the module's names: a lookup costs what it costs on the module
    assert type(mod) is types.ModuleType and vars(mod)["hls_to_rgb"] is real.hls_to_rgb
    with pytest.raises(AttributeError):
        _ = mod.no_such_function
    real.added_later = 1           # as a submodule imported afterwards would be
    assert mod.added_later == 1
    # once the module is imported, asking again gives the module itself
    assert lazy_import(NAME) is real


def test_the_libraries_are_not_replaced_where_they_are_imported() -> None:
    import numpy

    from collapse_audit.lazy import np

    assert np.zeros is numpy.zeros and sys.modules["numpy"] is numpy
