"""The Ray engine on a local 2-CPU cluster gives what one scan gives."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'collapse-audit[ray]')")

from collapse_audit.engine.ray_engine import scan_ray  # noqa: E402

from .test_shards import _one, _summary, corpus  # noqa: E402,F401


@pytest.fixture
def cluster(ray_cluster):
    return ray_cluster


def test_ray_tasks_merge_to_one_scan(cluster, corpus):  # noqa: F811
    _, files, config, resources = corpus
    expected = _summary(_one(files, config, resources), files, config)
    state = scan_ray(files, config, resources, address=None, max_bad=0, annotations=False, shards=3)
    assert _summary(state, files, config) == expected
