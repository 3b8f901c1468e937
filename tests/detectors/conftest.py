from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
L2R = REPO.parent / "shared" / "data" / "l2r" / "l2r.jsonl.gz"


@pytest.fixture(scope="session")
def l2r():
    if not L2R.is_file():
        pytest.skip(f"L2R data not found at {L2R} (../shared/data/l2r relative to the repo root)")
    from collapse_audit.detectors import train as T
    return T.load_l2r(L2R)


#: real text shipped with the tests: the L2R test split's human records and 600 rewrites (see its README)
L2R_TEST = REPO / "tests" / "fixtures" / "l2r-test" / "l2r-test.jsonl.gz"


@pytest.fixture(scope="session")
def l2r_test():
    """The L2R test-split sample shipped with the tests: the verdict tests run in any clone."""
    from collapse_audit.detectors import train as T
    return T.load_l2r(L2R_TEST)


@pytest.fixture(scope="session")
def default_detector():
    from collapse_audit.detectors import load_detector
    return load_detector("default")
