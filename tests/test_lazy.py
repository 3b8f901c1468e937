"""``collapse_audit.lazy``: a stand-in imports its module on first use, once, and then is as fast as it."""

from __future__ import annotations

import sys

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


@pytest.mark.usefixtures("not_imported")
def test_a_stand_in_imports_its_module_on_first_use_and_keeps_what_it_read() -> None:
    mod = lazy_import(NAME)
    assert isinstance(mod, LazyModule) and NAME not in sys.modules
    assert mod.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    real = sys.modules[NAME]
    assert mod.rgb_to_hsv is real.rgb_to_hsv and vars(mod)["rgb_to_hsv"] is real.rgb_to_hsv
    with pytest.raises(AttributeError):
        _ = mod.no_such_function
    # once the module is imported, asking again gives the module itself
    assert lazy_import(NAME) is real


def test_the_libraries_are_not_replaced_where_they_are_imported() -> None:
    import numpy

    from collapse_audit.lazy import np

    assert np.zeros is numpy.zeros and sys.modules["numpy"] is numpy
