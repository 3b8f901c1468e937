"""The options ``scan``, ``merge`` and ``filter`` share, declared once (sqlfluff's ``common_options`` is
the model): a command lists the ones it takes by name, so a flag's spelling, range and help cannot
drift apart between commands. ``check_report_options`` validates ``--format``/``--redact`` once.
"""

from __future__ import annotations

import typer

from ..errors import AuditError
from .render import FORMATS, REDACT_HELP, REDACT_MODES

POLICY = typer.Option(None, "--policy", "-p", help="Policy YAML (or a pyproject.toml with \\[tool.collapse-audit]). "
                      "Default: the nearest collapse-audit.yaml, .collapse-audit.yaml or pyproject.toml "
                      "\\[tool.collapse-audit] from here up to the repository root, else the packaged "
                      "rules/default.yaml.")
TEXT_FIELD = typer.Option(None, "--text-field", help="Field holding the text (overrides the policy; dotted paths "
                          "reach nested fields).")
ID_FIELD = typer.Option(None, "--id-field", help="Field holding the record id (overrides fields.id).")
PROVENANCE_FIELD = typer.Option(None, "--provenance-field", help="Field holding the provenance tag (overrides "
                                "fields.provenance).")
SOURCE_FIELD = typer.Option(None, "--source-field", help="Field naming each record's source (overrides "
                            "fields.source).")
FORMAT = typer.Option(None, "--format", "-f", help=f"Report format: {' | '.join(FORMATS)}. Default: table.")
OUTPUT = typer.Option(None, "--output", "-o", help="Write the report to FILE (default stdout).")
REDACT = typer.Option(None, "--redact", help=REDACT_HELP + " Choices: excerpts | ids.")
ANNOTATIONS = typer.Option(None, "--annotations", help="Write a Parquet file with one row per record: "
                           "duplicates, synthetic score, provenance and the rules it touches.")
DETECTOR = typer.Option(None, "--detector", help="Synthetic-text detector: default | neural | hf:PATH | lm:PATH "
                        "(default from the policy).")
SAMPLE = typer.Option(None, "--sample", min=0, help="Score at most N records with the detector (uniform, "
                      "seeded); 0 = all. Default from the policy.")
MAX_BAD_RECORDS = typer.Option(0, "--max-bad-records", min=0, help="Tolerate up to N unreadable records "
                               "(counted and listed in the report) instead of exiting 2.")
SEED = typer.Option(0, "--seed", min=0, help="Seed for sampling and estimates; same input+policy+seed give "
                    "identical results.")
WORKERS = typer.Option(None, "--workers", "-w", min=1, help="Worker processes (default: all available CPUs); "
                       "results are identical for any count.")
BATCH_SIZE = typer.Option(4096, "--batch-size", min=1, hidden=True)
BASELINE = typer.Option(None, "--baseline", help="Profile JSON from `collapse-audit profile` to measure drift "
                        "against.")
EVAL_SET = typer.Option(None, "--eval-set", help="Eval set(s) to check for contamination (repeatable); switches on "
                        "the CA5xx rules unless the policy disables them (--baseline likewise switches on CA41x).")
EVAL_TEXT_FIELD = typer.Option(None, "--eval-text-field", help="Field(s) holding an eval record's text, written like "
                               "fields.text: question+answer joins fields, dotted paths reach nested ones, a chat "
                               "list takes its turns. Default: the corpus's text field.")
AGAINST = typer.Option(None, "--against", help="A state directory of an earlier snapshot (scan --partial): "
                       "report records seen there, exactly or nearly.")
SELECT = typer.Option(None, "--select", help="Apply only these rules: comma-separated codes or prefixes (CA2, "
                      "CA101). A catalogued code the policy lacks is added with its default limit.")
EXTEND_SELECT = typer.Option(None, "--extend-select", help="Also apply these catalogued rules (codes or "
                             "prefixes) with their default limits.")
IGNORE = typer.Option(None, "--ignore", help="Do not apply these rules (codes or prefixes).")
EXIT_ZERO = typer.Option(False, "--exit-zero", help="Exit 0 even when the policy fails (the report still says "
                         "FAIL); exit 2 still means the audit could not be run.")
ACCEPT = typer.Option(None, "--accept", help="Accepted-findings file (YAML/JSON): records listed there leave "
                      "the numerator of their rules. Default: the policy's `accept:`.")
WRITE_ACCEPT = typer.Option(None, "--write-accept", help="Write this scan's findings as an accepted-findings "
                            "file for --accept (to adopt the gate on an existing corpus and fail only on new "
                            "problems).")


def check_report_options(fmt: str | None, redact: str | None) -> str:
    """The report format to use (``table`` by default), after refusing an unknown format or redact mode."""
    fmt = fmt or "table"
    if fmt not in FORMATS:
        raise AuditError(f"Unknown format '{fmt}' (choose from {', '.join(FORMATS)}).")
    if redact is not None and redact not in REDACT_MODES:
        raise AuditError(f"Unknown --redact mode '{redact}' (choose from {', '.join(REDACT_MODES)}).")
    return fmt
