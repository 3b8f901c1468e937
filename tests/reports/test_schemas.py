"""The published JSON Schemas: shipped in the package, identical in schemas/, and true of real files."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from report_fixtures import HERE, REPO, run_cli

from collapse_audit.reports.redact import redact
from collapse_audit.result import ScanResult
from collapse_audit.schemas import NAMES, schema_text

FIXTURES = sorted((HERE / "fixtures").glob("*.json"))


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_text(name))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", NAMES)
def test_repo_copy_is_identical_to_the_shipped_schema(name):
    assert (REPO / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8") == schema_text(name)


def test_a_real_scan_result_is_valid(sample_scan_json):
    _validator("result").validate(json.loads(sample_scan_json.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_fixture_results_are_valid_also_after_redaction(path):
    d = ScanResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    v = _validator("result")
    v.validate(d.to_dict())
    v.validate(redact(d, "ids").to_dict())


def test_result_schema_rejects_what_the_contract_forbids(result):
    v = _validator("result")
    bad = dict(result, rules=[dict(result["rules"][0], status="skipped")])
    assert not v.is_valid(bad)
    bad = dict(result, inputs=[dict(result["inputs"][0], fingerprint={"algorithm": "md5", "value": "x"})])
    assert not v.is_valid(bad)
    bad = dict(result, detector=dict(result["detector"], applicability={"state": "maybe", "reason": ""}))
    assert not v.is_valid(bad)


@pytest.mark.parametrize("path", [REPO / "collapse_audit" / "rules" / "default.yaml",
                                  REPO / "collapse_audit" / "templates" / "collapse-audit.yaml"],
                         ids=["default.yaml", "init-template"])
def test_shipped_policies_are_valid(path):
    _validator("policy").validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("policy", [
    {"detector": {"name": "default", "sample": -1}},
    {"rules": [{"id": "CA101", "max": 0.3, "min": 0.1}]},
    {"rules": [{"id": "CA101", "mx": 0.3}]},
    {"near_duplicates": {"threshold": 2}},
    {"contamination": {"threshold": 2}},
    {"on_inconclusive": "ignore"},
    {"fieldz": {}},
], ids=["negative-sample", "max-and-min", "typo-in-rule", "threshold-range", "contamination-range",
        "on-inconclusive", "unknown-top-key"])
def test_policy_schema_rejects_mistakes(policy):
    assert not _validator("policy").is_valid(policy)


def test_a_rule_id_alone_is_a_valid_policy_rule():
    assert _validator("policy").is_valid({"rules": [{"id": "CA410"}]})


@pytest.mark.parametrize("name", NAMES)
def test_schema_command_prints_the_schema(name):
    proc = run_cli("schema", name)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert proc.stdout == schema_text(name)


def test_schema_command_rejects_an_unknown_name():
    proc = run_cli("schema", "annotations")
    assert proc.returncode == 2 and "result, policy" in proc.stderr


def _loader_sections() -> tuple[set[str], dict[str, set[str]]]:
    """The policy's top-level keys and each option section's keys, as the loader knows them."""
    import dataclasses

    try:  # sections derived from the registered checks' Options
        from collapse_audit.checks.registry import options_sections
        from collapse_audit.policy.load import BASE_KEYS

        sections = {k: {f.name for f in dataclasses.fields(v)} for k, v in options_sections().items()}
        return set(BASE_KEYS) | set(sections), sections
    except ImportError:
        from collapse_audit.policy.load import NEAR_KEYS, TOP_KEYS
        from collapse_audit.signals.resources import KNOWN_OPTIONS

        sections = {k: set(v) for k, v in KNOWN_OPTIONS.items()}
        sections["near_duplicates"] = set(NEAR_KEYS)
        return set(TOP_KEYS), sections


def test_policy_schema_knows_every_key_the_loader_accepts():
    """An editor must never flag a key the tool accepts: the schema covers the loader's keys."""
    schema = json.loads(schema_text("policy"))
    top, sections = _loader_sections()
    assert top <= set(schema["properties"])
    for name, keys in sections.items():
        assert keys <= set(schema["properties"][name]["properties"]), name


def test_option_sections_are_derived_from_the_options_dataclasses():
    """A check's Options field (type, range, choices, doc) becomes its policy-schema property."""
    import dataclasses

    from collapse_audit.schemas.generate import options_section, policy_schema

    def option(default, doc, *, min=None, max=None, min_exclusive=False, choices=None):  # as checks.spec.option
        return dataclasses.field(default=default, metadata={"doc": doc, "min": min, "max": max,
                                                             "min_exclusive": min_exclusive, "choices": choices})

    @dataclasses.dataclass(frozen=True)
    class DemoOptions:
        """Demo check options."""

        enabled: bool = option(True, "Run at all.")
        share: float = option(0.5, "A share.", min=0.0, max=1.0, min_exclusive=True)
        limit: int | None = option(None, "A count.", min=1)
        mode: str | None = option(None, "How.", choices=("a", "b"))

    section = options_section(DemoOptions)
    assert section["additionalProperties"] is False
    props = section["properties"]
    assert props["enabled"] == {"type": "boolean", "description": "Run at all."}
    assert props["share"] == {"type": "number", "exclusiveMinimum": 0.0, "maximum": 1.0, "description": "A share."}
    assert props["limit"]["type"] == ["integer", "null"] and props["limit"]["minimum"] == 1
    assert props["mode"]["enum"] == ["a", "b", None]
    schema = policy_schema({"demo": DemoOptions}, json.loads(schema_text("policy")))
    v = jsonschema.Draft202012Validator(schema)
    assert v.is_valid({"demo": {"share": 0.2, "mode": "a"}})
    assert not v.is_valid({"demo": {"share": 0.0}}) and not v.is_valid({"demo": {"shar": 0.2}})
    assert list(schema["properties"])[-1] == "rules"


def test_shipped_policy_schema_matches_the_registered_checks():
    registry = pytest.importorskip("collapse_audit.checks.registry", reason="checks declare no Options yet")
    from collapse_audit.schemas.generate import dump, policy_schema

    expected = dump(policy_schema(registry.options_sections(), json.loads(schema_text("policy"))))
    assert schema_text("policy") == expected, "run: python -m collapse_audit.schemas.generate"
