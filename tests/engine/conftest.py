import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster with 2 CPUs for the session (skips when Ray is not installed)."""
    ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'collapse-audit[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
