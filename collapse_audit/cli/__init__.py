"""The ``collapse-audit`` command.

Exit codes: 0 the policy passed, 1 it failed - and nothing else exits 1. User errors
(``AuditError``) and Typer/Click usage errors exit 2 with one sentence; an unexpected exception
(a bug) also exits 2, with one line saying it is an internal error (the traceback only with the
global ``--debug`` flag or ``COLLAPSE_AUDIT_DEBUG=1``). SIGINT exits 130, SIGTERM 143, each with
one line, workers stopped and no partial output left behind.
"""

from __future__ import annotations

import os
import sys

import typer

from . import detector as detector_cli
from . import rules as rules_cli
from .common import DEBUG_ENV, exit_for, install_signal_handlers
from .filter import filter as filter_command
from .init import init
from .profile import profile
from .report import report
from .scan import scan
from .schema import schema

app = typer.Typer(
    name="collapse-audit",
    help="Audit an ML training corpus for model-collapse risk (duplicates, synthetic text, provenance, "
         "diversity) and gate it on a policy.\n\nExit codes: 0 policy passed, 1 policy failed, "
         "2 the audit could not be run, 130 interrupted, 143 terminated.\n\n"
         "Global option: --debug (before or after the command) shows the traceback of an internal error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(no_args_is_help=True)(scan)
app.command(no_args_is_help=True)(report)
app.command("filter", no_args_is_help=True)(filter_command)
app.add_typer(rules_cli.app, name="rules")
app.add_typer(detector_cli.app, name="detector")
app.command(no_args_is_help=True)(profile)
app.command()(init)
app.command(no_args_is_help=True)(schema)


def main() -> None:
    if "--debug" in sys.argv[1:]:
        sys.argv = [a for a in sys.argv if a != "--debug"]
        os.environ[DEBUG_ENV] = "1"
    install_signal_handlers()
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - whatever escaped a command: one line, exit 2/130/143
        exit_for(exc)
