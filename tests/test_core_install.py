"""The core install does real work without the extras: a scan must not need scipy, sklearn, click,
datasketch, torch or transformers (they arrive only with the test/train/neural extras)."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import REPO, SAMPLE

BLOCK = ("scipy", "sklearn", "click", "datasketch", "torch", "transformers", "ray", "s3fs", "moto", "hypothesis")

SCRIPT = f"""
import sys
for name in {BLOCK!r}:
    sys.modules[name] = None          # importing it now raises ImportError
from collapse_audit.cli import main
sys.argv = ["collapse-audit", "scan", {str(SAMPLE)!r}, "-q", "-w", "1", "-f", "json", "-o", sys.argv[1]]
main()
"""


def test_a_scan_runs_without_any_extra(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(out)], capture_output=True, text=True, cwd=REPO,
                          timeout=600)
    assert proc.returncode == 1, proc.stderr          # the sample corpus fails its policy, by design
    result = json.loads(out.read_text())
    assert result["records"]["total"] == 329 and result["detector"]["applicability"]["state"]
