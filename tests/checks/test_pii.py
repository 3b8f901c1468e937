"""Personal-data check: known-answer texts, redaction, per-source shares, and that the registration
alone makes it part of the catalogue, the policy options, the annotations and a scan."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from helpers import make_batches, make_check, run_check, run_cli, write_jsonl

from collapse_audit.checks.pii import Pii, redact
from collapse_audit.checks.registry import annotation_columns, catalogue, metric_spec, options_sections
from collapse_audit.errors import PolicyError
from collapse_audit.policy import load_policy
from collapse_audit.result.locations import using_inputs

TEXTS = [
    "Write to jane.doe@example.org for details.",               # email
    "Call +44 20 7946 0958 or (555) 123-4567 today.",           # phone
    "The server at 192.168.10.24 answered.",                    # ip
    "Version 3.12 came out; 1.5 million users; 2024-05-01.",    # none (a date, decimals)
    "no personal data here at all",                             # none
    "mail bob@mail.co.uk from 10.0.0.1",                        # email + ip
    "999.1.1.1 is not an address and neither is 1.2.3.4.5",     # none
    "order 12345678 shipped",                                   # none (one long number)
]


def test_known_answers_flags_and_column():
    res = run_check(make_check(Pii), make_batches(TEXTS, 3))
    assert res.flags["pii.email_share"].tolist() == [1, 0, 0, 0, 0, 1, 0, 0]
    assert res.flags["pii.phone_share"].tolist() == [0, 1, 0, 0, 0, 0, 0, 0]
    assert res.flags["pii.ip_share"].tolist() == [0, 0, 1, 0, 0, 1, 0, 0]
    assert res.metrics["pii.email_count"] == 2 and res.metrics["pii.email_share"] == 2 / 8
    assert res.metrics["pii.any_count"] == 4 and res.metrics["pii.any_share"] == 0.5
    assert res.columns["pii"].to_pylist() == ["email", "phone", "ip", None, None, "email,ip", None, None]


def test_examples_are_redacted_and_never_the_text():
    res = run_check(make_check(Pii, {"max_examples": 1}), make_batches(TEXTS, 3))
    ex = res.details["examples"]
    assert [len(v) for v in ex.values()] == [1, 1, 1]
    assert ex["email"][0] == {"file": "train.jsonl", "row": 0, "found": "j***@e***.org"}
    assert ex["ip"][0]["found"] == "192.168.x.x"
    assert ex["phone"][0]["found"].endswith("58") and "7946" not in ex["phone"][0]["found"]
    blob = json.dumps(res.details)
    assert "jane.doe" not in blob and "192.168.10.24" not in blob
    assert redact("email", " a.b@c.example.com,") == "a***@c***.com"


def test_per_source_shares_and_batching_do_not_matter():
    sources = ["a", "b"] * 4
    check = make_check(Pii)
    whole = run_check(check, make_batches(TEXTS, 8, sources=sources)).metrics
    assert run_check(make_check(Pii), make_batches(TEXTS, 1, sources=sources)).metrics == whole
    per_a = check.metrics_for(np.array(sources) == "a")
    assert per_a["pii.email_count"] == 1 and per_a["pii.email_share"] == 1 / 4
    assert per_a["pii.ip_count"] == 1 and per_a["pii.phone_count"] == 0
    per_b = check.metrics_for(np.array(sources) == "b")
    assert (per_b["pii.email_count"], per_b["pii.phone_count"], per_b["pii.ip_count"]) == (1, 1, 1)


def test_registration_is_all_it_takes():
    assert {"CA601", "CA602", "CA603"} <= set(catalogue())
    assert not any(catalogue()[c].enabled_by_default for c in ("CA601", "CA602", "CA603"))
    assert metric_spec("pii.email_share").kind == "fraction"
    assert options_sections()["pii"] is Pii.Options
    assert "pii" in [c.name for c in annotation_columns()]
    details = run_check(make_check(Pii), make_batches(TEXTS, 4)).details
    with using_inputs([{"path": "train.jsonl", "format": "jsonl"}]):
        section = Pii.section(details, {"pii.email_share": 0.25})
    assert section.facts == [("records with an e-mail address", "25.0%")]
    assert section.tables[0].rows[0] == ["email", "train.jsonl:1", "j***@e***.org"]   # row 0 is line 1


@pytest.mark.parametrize("text, fragment", [
    ("pii: {max_exemples: 3}\n", "did you mean 'max_examples'"),
    ("pii: {max_examples: -1}\n", "between 0 and 100"),
    ("rules:\n  - {id: CA601, max: 0.0}\n", None),
])
def test_policy_options_and_rules(tmp_path, text, fragment):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    if fragment is None:
        assert load_policy(str(path)).rules[0].metric == "pii.email_share"
        return
    with pytest.raises(PolicyError, match=fragment):
        load_policy(str(path))


def test_scan_rule_per_source_and_annotations(tmp_path):
    data = write_jsonl(tmp_path / "c.jsonl", [{"text": t, "source": s, "provenance": "human"}
                                              for t, s in zip(TEXTS, ["a", "b"] * 4, strict=True)])
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules:\n  - {id: CA601, max: 0.1}\n")
    out = tmp_path / "ann.parquet"
    proc = run_cli("scan", data, "-p", policy, "-f", "json", "-q", "--annotations", out)
    assert proc.returncode == 0, proc.stderr        # a warning rule does not fail the verdict
    result = json.loads(proc.stdout)
    assert result["metrics"]["pii.email_share"] == 0.25
    assert result["sources"]["groups"]["a"]["pii.email_share"] == 0.25
    rule = result["rules"][0]
    assert rule["id"] == "CA601" and rule["status"] == "warn" and rule["records_flagged"] == 2
    assert pq.read_table(out).column("pii").to_pylist()[:3] == ["email", "phone", "ip"]
