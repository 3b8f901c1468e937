"""Memory is bounded by design: one huge record is analysed up to a documented cap."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import REPO, words

from collapse_audit.text.batch import nfc_texts
from collapse_audit.text.limits import MAX_ANALYSIS_CHARS, clip_for_analysis, clip_nfc


def test_clip_for_analysis_cuts_only_long_texts():
    short, long_ = "abc", "x" * (MAX_ANALYSIS_CHARS + 10)
    out = clip_for_analysis([short, long_])
    assert out[0] is short
    assert out[1] == "x" * MAX_ANALYSIS_CHARS


def test_clip_nfc_cuts_characters_not_bytes():
    nfc = nfc_texts(["é" * 10 + "abc", "xy"])
    assert clip_nfc(nfc, 4).array.to_pylist() == ["éééé", "xy"]
    assert clip_nfc(nfc, 100) is nfc


def test_records_equal_up_to_the_cap_are_still_not_exact_duplicates(tmp_path):
    """The cap limits analysis, not identity: exact duplicates hash the whole record."""
    head = "y " * MAX_ANALYSIS_CHARS
    path = tmp_path / "c.jsonl"
    with open(path, "w") as fh:
        fh.write(json.dumps({"id": 0, "text": head + "one ending"}) + "\n")
        fh.write(json.dumps({"id": 1, "text": head + "another ending"}) + "\n")
        for i in range(2, 6):
            fh.write(json.dumps({"id": i, "text": words(i)}) + "\n")
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "collapse_audit", "scan", str(path), "-q", "-f", "json", "-o",
                           str(out), "-w", "1"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(out.read_text())["metrics"]["duplicates.exact_fraction"] == 0


_SCAN_ONE_HUGE_RECORD = r"""
import json, resource, subprocess, sys
path, out = sys.argv[1], sys.argv[2]
words = [f"word{k}" for k in range(20000)]
text = " ".join(words[(i * 7919) % 20000] for i in range(5_500_000))   # about 52 MB (under the 64 MiB line cap)
with open(path, "w") as fh:
    fh.write(json.dumps({"id": 0, "text": text}) + "\n")
    for i in range(1, 10):
        fh.write(json.dumps({"id": i, "text": " ".join(words[i:i + 60])}) + "\n")
del text
proc = subprocess.run([sys.executable, "-m", "collapse_audit", "scan", path, "-q", "-w", "1", "-f", "json",
                       "-o", out], capture_output=True, text=True)
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": proc.returncode, "stderr": proc.stderr, "peak_kib": peak_kib}))
"""


def test_a_single_50mb_record_scans_under_1_gib(tmp_path):
    """A bound, not a timing: the scan's peak RSS (measured for the scan process alone)."""
    path, out = tmp_path / "one.jsonl", tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-c", _SCAN_ONE_HUGE_RECORD, str(path), str(out)], capture_output=True,
                          text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["rc"] in (0, 1), got["stderr"]
    assert path.stat().st_size > 50_000_000
    assert got["peak_kib"] < 1024 * 1024, f"peak {got['peak_kib'] / 1024:.0f} MiB"
    assert json.loads(out.read_text())["records"]["total"] == 10
