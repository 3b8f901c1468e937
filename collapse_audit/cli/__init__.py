"""The ``collapse-audit`` command.

Exit codes: 0 the policy passed, 1 it failed - and nothing else exits 1. User errors
(``AuditError``) and Typer/Click usage errors exit 2 with one sentence; an unexpected exception
(a bug) also exits 2, with one line saying it is an internal error (the traceback only with the
global ``--debug`` flag or ``COLLAPSE_AUDIT_DEBUG=1``). SIGINT exits 130, SIGTERM 143, each with
one line, workers stopped and no partial output left behind.

Start-up is lazy: a command's module (and through it the engine, the checks, numpy, pyarrow) is
imported only when that command runs, so ``--version`` and ``--help`` cost about as much as
Typer itself (``benchmarks/startup.py`` measures it; ``tests/cli/test_startup.py`` pins the
modules ``--version`` may import).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NamedTuple

import typer
from typer import _click as click  # Typer's own copy of Click, the one its commands are built on
from typer.core import TyperCommand, TyperGroup

from .common import DEBUG_ENV, exit_for, install_signal_handlers


class Command(NamedTuple):
    """Where a top-level command lives and the one line ``--help`` lists for it.

    ``summary`` must be the first line of the command's own help (a test compares them), so the
    listing never imports the command to read it.
    """

    module: str          # the module under collapse_audit.cli
    attribute: str       # a command function, or a ``typer.Typer`` for a group of subcommands
    summary: str
    no_args_is_help: bool = True


COMMANDS: dict[str, Command] = {
    "scan": Command("scan", "scan", "Audit PATHS against the policy and print or export the report."),
    "report": Command("report", "report", "Re-render a saved scan result (the JSON report) as HTML, Markdown, "
                      "JUnit XML or a compliance summary."),
    "filter": Command("filter", "filter", "Write the records of PATHS that the policy keeps, unchanged, in "
                      "their own format."),
    "profile": Command("profile", "profile", "Freeze a baseline profile of a trusted (human) corpus for "
                       "`scan --baseline`."),
    "merge": Command("merge", "merge", "Merge the partial states of a sharded scan (`scan --shard I/N "
                     "--partial DIR`) into one report."),
    "init": Command("init", "init", "Start auditing a repository: write collapse-audit.yaml, a CI workflow "
                    "and a pre-commit hook.", no_args_is_help=False),
    "schema": Command("schema", "schema", "Print a JSON Schema (draft 2020-12): `result` for `scan --format "
                      "json`, `policy` for collapse-audit.yaml."),
    "rules": Command("rules", "app", "List and explain the policy rules (stable codes CA1xx-CA6xx)."),
    "detector": Command("detector", "app", "Train, evaluate and run the synthetic-text detectors."),
}


def load_command(name: str) -> click.Command:
    """Import the module of command ``name`` and build its Click command (a group for a Typer app)."""
    spec = COMMANDS[name]
    target = getattr(importlib.import_module(f"{__name__}.{spec.module}"), spec.attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer(add_completion=False)
    single.command(name, no_args_is_help=spec.no_args_is_help)(target)
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    """The root group: commands are listed from ``COMMANDS`` and imported only when one is run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, click.Command] = {}
        self._listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, in the order of ``COMMANDS``."""
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, imported on first use; while the help page is drawn, only its name and summary."""
        if cmd_name not in COMMANDS:
            return None
        if self._listing:
            summary = COMMANDS[cmd_name].summary
            return TyperCommand(cmd_name, short_help=summary, help=summary)
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = load_command(cmd_name)
        return self._loaded[cmd_name]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The root help page, listing the commands from ``COMMANDS`` without importing them."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="collapse-audit",
    cls=LazyGroup,
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
