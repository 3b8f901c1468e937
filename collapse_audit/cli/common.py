"""Helpers shared by the commands: exit codes for every way a command can end, writing output.

Exit codes: 0 the policy passed, 1 it failed (and nothing else), 2 the audit could not be run
(a user error, or an internal error shown as one line), 130 interrupted (SIGINT), 143 terminated
(SIGTERM). Every message is one line on stderr with untrusted text (file names, data values)
made inert, so a hostile file name cannot drive the terminal.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

import typer

from ..errors import AuditError
from ..outputs import atomic_output
from ..text.inert import log_inert

DEBUG_ENV = "COLLAPSE_AUDIT_DEBUG"


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so ``finally`` blocks run (workers stopped, temp files removed).

    A BaseException like KeyboardInterrupt, so no ``except Exception`` on the way swallows it."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def install_signal_handlers() -> None:
    """SIGTERM unwinds like Ctrl-C does (exit 143 instead of 130)."""
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # pragma: no cover - not the main thread
        pass


def debug_enabled() -> bool:
    """Whether tracebacks are wanted (``--debug`` sets the environment variable, so workers see it too)."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def say(kind: str, message: object) -> None:
    """One line on stderr: ``collapse-audit: KIND: message`` made inert, URL credentials hidden."""
    text = str(message)
    try:  # imported here: --version and --help must not load the readers
        from ..readers.storage import hide_url_secrets

        text = hide_url_secrets(text)
    except ImportError:  # pragma: no cover - a broken install still gets its one line
        pass
    sys.stderr.write(f"collapse-audit: {kind}: {log_inert(text)}\n")
    sys.stderr.flush()


def exit_for(exc: BaseException) -> NoReturn:
    """Turn any exception that ends a command into its one line and exit code."""
    if isinstance(exc, AuditError):
        say("error", exc)
        code = 2
    elif isinstance(exc, KeyboardInterrupt):
        sys.stderr.write("collapse-audit: interrupted\n")
        code = 130
    elif isinstance(exc, BrokenPipeError):  # stdout's reader went away (`... | head`)
        _quiet_stdout()
        say("error", "the output pipe was closed before the report was complete")
        code = 2
    elif isinstance(exc, Terminated):
        sys.stderr.write("collapse-audit: terminated\n")
        code = 143
    else:
        if debug_enabled():
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        say("internal error", f"{type(exc).__name__}: {_short(exc)} (run with --debug for the traceback)")
        code = 2
    sys.stderr.flush()
    raise SystemExit(code)


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def user_errors(fn: Callable) -> Callable:
    """Run a command: user errors exit 2 with one sentence, internal errors exit 2 with one line
    (traceback only with --debug), interrupts 130/143; never exit 1 except for a failed policy."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - every other ending gets its exit code here
            try:
                exit_for(exc)
            except SystemExit as done:
                raise typer.Exit(done.code if isinstance(done.code, int) else 2) from None

    return wrapper


def write_output(text: str, output: str | None) -> None:
    """Write to FILE (atomically: the old file survives a failed write) or stdout; an unwritable
    FILE is a user error."""
    if output is None or output == "-":
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `scan ... | head`: the reader left; not an error of the audit
            _quiet_stdout()
        return
    with atomic_output(output, "w") as fh:
        fh.write(text)


def _quiet_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:  # pragma: no cover
        pass
