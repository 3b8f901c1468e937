"""Helpers shared by the commands: turning user errors into exit 2, writing output."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer

from ..errors import AuditError
from ..outputs import atomic_output


def user_errors(fn: Callable) -> Callable:
    """Run a command; an AuditError prints one sentence to stderr and exits 2, with no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AuditError as exc:
            sys.stderr.write(f"collapse-audit: error: {exc}\n")
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            sys.stderr.write("collapse-audit: interrupted\n")
            raise typer.Exit(130) from None

    return wrapper


def write_output(text: str, output: str | None) -> None:
    """Write to FILE (atomically: the old file survives a failed write) or stdout; an unwritable
    FILE is a user error."""
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    with atomic_output(output, "w") as fh:
        fh.write(text)
