"""The ``collapse-audit`` command.

User errors (``AuditError``) become one sentence on stderr and exit code 2; Typer/Click usage
errors also exit 2. Exit 0 means the policy passed and 1 that it failed.
"""

from __future__ import annotations

import sys

import typer

from ..errors import AuditError
from . import detector as detector_cli
from . import rules as rules_cli
from .filter import filter as filter_command
from .init import init
from .profile import profile
from .report import report
from .scan import scan
from .schema import schema

app = typer.Typer(
    name="collapse-audit",
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Audit an ML training corpus for model-collapse risk (duplicates, synthetic text, provenance, "
         "diversity) and gate it on a policy.\n\nExit codes: 0 policy passed, 1 policy failed, "
         "2 the audit could not be run.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from ..version import __version__

        sys.stdout.write(f"collapse-audit {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Audit an ML training corpus for model-collapse risk and gate it on a policy."""


app.command(no_args_is_help=True)(scan)
app.command(no_args_is_help=True)(report)
app.command("filter", no_args_is_help=True)(filter_command)
app.add_typer(rules_cli.app, name="rules")
app.add_typer(detector_cli.app, name="detector")
app.command(no_args_is_help=True)(profile)
app.command()(init)
app.command(no_args_is_help=True)(schema)


def main() -> None:
    """The console script: run the app; a user error outside a command still exits 2 with one line."""
    try:
        app(standalone_mode=True)
    except AuditError as exc:  # raised outside a command's own handler
        _fail(str(exc))


def _fail(message: str) -> None:
    sys.stderr.write(f"collapse-audit: error: {message}\n")
    raise SystemExit(2)
