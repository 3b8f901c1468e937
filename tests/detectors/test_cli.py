import json

import numpy as np
import pytest
from typer.testing import CliRunner

from collapse_audit.cli.detector import app

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

TEXTS = ["I wrote this myself, on a train, badly.", "Furthermore, it is essential to recognize the pivotal role.",
         "short", "Another human line\nwith a break"]


def _jsonl(p, rows):
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


def test_score_jsonl_one_row_per_record_in_order(tmp_path):
    f = _jsonl(tmp_path / "a.jsonl", [{"doc": {"body": t}} for t in TEXTS])
    out = tmp_path / "s.parquet"
    r = CliRunner().invoke(app, ["score", str(f), "-o", str(out), "--text-field", "doc.body"])
    assert r.exit_code == 0, r.output
    t = pq.read_table(out)
    assert t.column("row").to_pylist() == [0, 1, 2, 3]
    from collapse_audit.detectors import load_detector
    np.testing.assert_allclose(t.column("synthetic_score").to_numpy(), load_detector("default").score(TEXTS))
    assert b"collapse_audit.detector" in t.schema.metadata


def test_score_parquet(tmp_path):
    f = tmp_path / "a.parquet"
    pq.write_table(pa.table({"text": TEXTS}), f)
    out = tmp_path / "s.parquet"
    r = CliRunner().invoke(app, ["score", str(f), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert pq.read_table(out).num_rows == 4


def test_eval_json_with_groups(tmp_path):
    rows = [{"text": t, "label": ["human", "synthetic"][i % 2], "src": "ab"[i // 2]} for i, t in enumerate(TEXTS)]
    f = _jsonl(tmp_path / "a.jsonl", rows)
    r = CliRunner().invoke(app, ["eval", str(f), "--label-field", "label", "--group-field", "src", "-f", "json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["overall"]["n"] == 4 and set(res["groups"]) == {"a", "b"}
    assert {"auroc", "tpr_at_1pct_fpr", "calibration_error", "tpr", "fpr"} <= set(res["overall"])
    r = CliRunner().invoke(app, ["eval", str(f), "--group-field", "src"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("args,msg", [
    (["score", "/no/such.jsonl", "-o", "x.parquet"], "Input path not found"),
    (["score", "{bad}", "-o", "x.parquet", "--detector", "bogus"], "Unknown detector"),
    (["eval", "{bad}", "--label-field", "nolabel"], "the label field 'nolabel' is missing"),
    (["eval", "{bad}", "-f", "xml"], "Unknown format"),
    (["score", "{txt}", "-o", "x.parquet"], "is not a supported input"),
    (["score", "{broken}", "-o", "x.parquet"], "invalid JSON"),
    (["score", "{bad}", "-o", "x.parquet", "--text-field", "nope"], "text field 'nope' is missing"),
])
def test_user_errors_exit_2_one_sentence(tmp_path, args, msg):
    good = _jsonl(tmp_path / "g.jsonl", [{"text": t, "label": "human"} for t in TEXTS])
    txt = tmp_path / "a.txt"
    txt.write_text("hi")
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"text": "ok"}\n{not json\n')
    args = [a.format(bad=good, txt=txt, broken=broken) for a in args]
    if "-o" in args:
        args[args.index("-o") + 1] = str(tmp_path / "x.parquet")
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2, r.output
    assert msg in r.output and "Traceback" not in r.output
