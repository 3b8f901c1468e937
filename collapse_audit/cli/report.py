"""``collapse-audit report RESULT.json``: re-render a saved scan result in another format, without rescanning.

It goes through the very renderers ``scan`` uses, on the very dict ``scan --format json`` wrote,
so ``report`` reproduces byte for byte what ``scan`` would have written in that format.

A result file is rendered only when it is a valid result: strict JSON (no ``NaN``/``Infinity``,
which ``json`` would otherwise accept) that validates against ``collapse-audit schema result``.
Anything else is exit 2 with one sentence naming the file and the first offending key, so an edited
or truncated result can never be re-rendered into a report that looks authoritative.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer

from ..errors import AuditError
from ..outputs import check_outputs
from ..result import SCHEMA_VERSION, ScanResult, load_result
from .common import user_errors, write_output
from .render import FORMATS, REDACT_HELP, SUFFIX_FORMATS, render_result

REPORT_FORMATS = FORMATS


class _NotJson(ValueError):
    """A constant (NaN, Infinity) that strict JSON does not have."""


def _refuse_constant(name: str) -> Any:
    raise _NotJson(name)


def load_valid_result(path: str) -> ScanResult:
    """The result in ``path``, only if it is strict JSON that validates against the result schema."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh, parse_constant=_refuse_constant)
    except _NotJson as exc:
        raise AuditError(f"{path} is not a valid collapse-audit result: it holds {exc}, which JSON "
                         "cannot carry (a result never does).") from None
    except (OSError, UnicodeDecodeError, ValueError):
        data = None                       # load_result says what is wrong, in its words
    if isinstance(data, dict) and data.get("schema_version") == SCHEMA_VERSION:
        error = _first_schema_error(data)
        if error is not None:
            raise AuditError(f"{path} is not a valid collapse-audit result (`collapse-audit schema result`): "
                             f"{error}.")
    return load_result(path)              # missing, unreadable, not a result, another schema_version


def _first_schema_error(data: Any) -> str | None:
    """The most relevant schema violation as ``at KEY.PATH: message``, or None when ``data`` is valid."""
    import jsonschema  # type: ignore[import-untyped]

    from ..schemas import schema_text

    validator = jsonschema.Draft202012Validator(json.loads(schema_text("result")))
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path) or "the top level"
    message = " ".join(error.message.split())
    return f"at {where}: {message if len(message) <= 200 else message[:197] + '...'}"


def _pick_format(fmt: str | None, output: str | None) -> str:
    if fmt:
        fmt = fmt.strip().lower()
        if fmt not in REPORT_FORMATS:
            raise AuditError(f"Unknown format '{fmt}' (choose from {', '.join(REPORT_FORMATS)}).")
        return fmt
    if output and output != "-":
        suffix = os.path.splitext(output)[1].lower()
        if suffix in SUFFIX_FORMATS:
            return SUFFIX_FORMATS[suffix]
        raise AuditError(f"Cannot tell the format from '{output}'; pass --format ({', '.join(REPORT_FORMATS)}).")
    return "table"


@user_errors
def report(
    result_file: str = typer.Argument(
        ..., metavar="RESULT.json", help="A result written by `collapse-audit scan --format json`.", show_default=False
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help=f"Output format: {' | '.join(REPORT_FORMATS)}. "
        "Default: from the suffix of --output (.html, .md, .xml, .json, .sarif), else table.",
    ),
    output: str | None = typer.Option(None, "--output", "-o", help="Write the report to FILE (default stdout)."),
    redact: str | None = typer.Option(None, "--redact", help=REDACT_HELP + " Choices: excerpts | ids."),
) -> None:
    """Re-render a saved scan result (the JSON report) as HTML, Markdown, JUnit XML or a compliance summary.

    Nothing is rescanned: the output is exactly what `scan --format FMT` wrote for that scan.
    `summary` is the training-content summary a model provider files (EU AI Act template
    structure) in Markdown; `summary-json` is the same as JSON.

    Examples:

      collapse-audit report result.json -f html -o report.html

      collapse-audit report result.json -f junit -o rules.xml

      collapse-audit report result.json -f sarif -o results.sarif --redact ids

      collapse-audit report result.json -f github    # annotations in a GitHub Actions log

    Exit codes: 0 the report was written (whatever the verdict), 2 the result could not be read
    (missing file, not a collapse-audit result, unknown schema_version, NaN or a value the result
    schema forbids) or the output not written.
    """
    fmt_name = _pick_format(fmt, output)
    check_outputs([output], [result_file])  # never re-render a result over itself
    result = load_valid_result(result_file)
    if fmt_name == "table" and output in (None, "-"):
        from rich.console import Console

        from ..reports.console import render
        from ..reports.redact import redact as redact_result

        render(redact_result(result, redact), Console() if sys.stdout.isatty() else Console(width=140))
        return
    write_output(render_result(result, fmt_name, redact), output)
