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
from .merge import merge
from .profile import profile
from .report import report
from .scan import scan
from .schema import schema

app = typer.Typer(
    name="collapse-audit",
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Audit an ML training corpus for model-collapse risk (duplicates, synthetic text, provenance, "
         "diversity) and gate it on a policy.\n\nExit codes: 0 policy passed, 1 policy failed, "
         "2 the audit could not be run, 130 interrupted, 143 terminated.\n\n"
         "Global option: --debug (before or after the command) shows the traceback of an internal error.",
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
app.command(no_args_is_help=True)(merge)
app.command()(init)
app.command(no_args_is_help=True)(schema)


def _keep_freed_memory() -> None:
    """Let glibc's allocator reuse freed memory instead of returning it to the kernel at once.

    A scan allocates and frees numpy temporaries of a few MiB per check per batch; by default glibc
    serves those with fresh ``mmap`` pages and unmaps them on free, so every batch pays page faults
    again (4.6 of 35 CPU-seconds of a 100k-record scan went to the kernel). Serving them from the
    heap and keeping up to 256 MiB of freed heap halves that; results are unaffected and the peak
    working set is the same. Forked workers inherit the setting. No-op where glibc is not the allocator.
    """
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
    mallopt(M_MMAP_THRESHOLD, 32 << 20)     # glibc's maximum on 64-bit
    mallopt(M_TRIM_THRESHOLD, 256 << 20)
    mallopt(M_TOP_PAD, 16 << 20)


def main() -> None:
    """The console script: run the app; a user error outside a command still exits 2 with one line."""
    if "--debug" in sys.argv[1:]:
        sys.argv = [a for a in sys.argv if a != "--debug"]
        os.environ[DEBUG_ENV] = "1"
    install_signal_handlers()
    _keep_freed_memory()
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - whatever escaped a command: one line, exit 2/130/143
        exit_for(exc)
