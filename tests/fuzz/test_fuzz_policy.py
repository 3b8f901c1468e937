"""Property: any policy text loads as a Policy or fails with a PolicyError naming the file -
never another exception (no crash, no RecursionError, no blow-up)."""

from __future__ import annotations

import re

import pytest

from collapse_audit.errors import PolicyError
from collapse_audit.policy import load_policy

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")
HealthCheck, given, settings = hypothesis.HealthCheck, hypothesis.given, hypothesis.settings

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Pieces of policy-shaped YAML, glued together at random: keys the loader knows, YAML features that
# have caused trouble (anchors, aliases, merges, flow collections, tags, odd numbers), and junk.
PIECES = [
    "version: 1\n", "version: 2\n", "rules:\n", "rules: []\n", "fields:\n", "  text: body\n", "  text: text\n",
    "  synthetic_values: [llm, synthetic]\n", "  source: source\n", "near_duplicates: {threshold: 0.8}\n",
    "  - id: CA101\n", "  - {id: CA201, max: 0.1}\n", "    max: 0.3\n", "    max: .nan\n", "    min: -.inf\n",
    "    max: 1.0e+400\n", "    severity: warning\n", "    where: {source: web}\n", "    enabled: false\n",
    "detector: {name: default, sample: 10}\n", "detector:\n  sample: -3\n", "a: &a [1, 2]\n", "b: *a\n",
    "c: &c [*c]\n", "? [x, y]\n: 1\n", "<<: {x: 1}\n", "!!python/object:os.system x\n", "- - - -\n",
    "{", "}", "[", "]", ": ", "- ", "&", "*", "!", "%YAML 1.1\n", "---\n", "...\n", "'", '"', "\t", "\x00",
    "\ufeff", "é", "\ud7ff", "#", "\n", "  ", "1e999", "0x10", "~", "null", "yes", "no",
]


@SETTINGS
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_policy_pieces_never_crash(tmp_path, pieces):
    _check(tmp_path, "".join(pieces).encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(tmp_path, data):
    _check(tmp_path, data)


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text_never_crash(tmp_path, text):
    _check(tmp_path, text.encode("utf-8"))


def _check(tmp_path, data: bytes) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(data)
    try:
        load_policy(str(path))
    except PolicyError as exc:
        msg = str(exc)
        assert str(path) in msg, msg
        assert "\n" not in msg.strip(), msg
        assert re.search(r"(:\d+|empty|not valid UTF-8|YAML|nested)", msg), msg
