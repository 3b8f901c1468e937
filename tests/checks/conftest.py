import pytest


@pytest.fixture(scope="session")
def l2r(l2r_records):
    """The L2R records, shuffled (skips when the data set is absent)."""
    return l2r_records
