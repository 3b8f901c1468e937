"""Start-up stays light: ``--version`` and ``--help`` import no command, check or heavy library;
reading the check declarations (``rules``, ``schema policy``) imports every check but no heavy library.

The module set is ``sys.modules`` when a fresh interpreter running the command exits (the only
honest way: this test process has long imported everything). ``-X importtime`` would not do: it
does not log a module imported through ``importlib.import_module``, which is how the built-in
checks are loaded and how ``collapse_audit.lazy`` imports numpy and pyarrow on first use. Time
itself is measured in ``benchmarks/startup.py``, not here.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer import _click as click

from collapse_audit import cli

# A library, or a part of the package, whose import would mean start-up loads the world again.
FORBIDDEN = ("numpy", "pandas", "pyarrow", "pyarrow.dataset", "datasketch", "xxhash",
             "collapse_audit.checks", "collapse_audit.engine", "collapse_audit.readers",
             "collapse_audit.detectors", "collapse_audit.reports", "collapse_audit.policy",
             "collapse_audit.text.minhash")
# What reading the declarations must not load: the libraries the checks compute with.
HEAVY = ("numpy", "pandas", "pyarrow", "datasketch", "xxhash", "scipy", "sklearn", "torch", "transformers")
# Everything of the package that --version may load: the CLI root and what its error handling needs.
ALLOWED_OWN = {"collapse_audit", "collapse_audit.version", "collapse_audit.errors", "collapse_audit.outputs",
               "collapse_audit.text", "collapse_audit.text.inert", "collapse_audit.cli",
               "collapse_audit.cli.common", "collapse_audit.__main__"}


# Runs the command as ``python -m collapse_audit`` does, then writes every imported module's name.
PROBE = """
import atexit, runpy, sys
atexit.register(lambda: sys.stderr.write("\\nimported: " + " ".join(sorted(sys.modules)) + "\\n"))
runpy.run_module("collapse_audit", run_name="__main__", alter_sys=True)
"""


def imported_modules(*args: str) -> set[str]:
    """The modules a fresh ``python -m collapse_audit ARGS`` has imported when it exits."""
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"}, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    listed = [line for line in proc.stderr.splitlines() if line.startswith("imported: ")]
    assert len(listed) == 1, proc.stderr[-2000:]
    return set(listed[0].split()[1:])


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_version_and_help_import_nothing_heavy(args: tuple[str, ...]) -> None:
    mods = imported_modules(*args)
    assert "collapse_audit.cli" in mods            # the probe itself works
    heavy = _forbidden(mods, FORBIDDEN)
    assert not heavy, f"{' '.join(args)} imports {heavy}"
    own = {m for m in mods if m.split(".")[0] == "collapse_audit"}
    assert own <= ALLOWED_OWN, f"{' '.join(args)} also imports {sorted(own - ALLOWED_OWN)}"


def _forbidden(mods: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in mods if any(m == f or m.startswith(f + ".") for f in names))


@pytest.mark.parametrize("args", [("rules", "list"), ("rules", "list", "--format", "json"),
                                  ("rules", "explain", "CA201"), ("schema", "policy")])
def test_reading_the_declarations_imports_every_check_but_no_heavy_library(args: tuple[str, ...]) -> None:
    from collapse_audit.checks import BUILTIN

    mods = imported_modules(*args)
    declarations = {"collapse_audit.checks.registry", "collapse_audit.checks.plugins",
                    *(f"collapse_audit.checks.{name}" for name in BUILTIN)}
    assert declarations <= mods, f"{' '.join(args)} does not import {sorted(declarations - mods)}"
    heavy = _forbidden(mods, HEAVY)
    assert not heavy, f"{' '.join(args)} imports {sorted({m.split('.')[0] for m in heavy})}"


def test_version_prints_the_version() -> None:
    from collapse_audit.version import __version__

    out = subprocess.run([sys.executable, "-m", "collapse_audit", "--version"], capture_output=True, text=True,
                         check=True).stdout
    assert out == f"collapse-audit {__version__}\n"


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_listed_summary_is_the_commands_own_first_line(name: str) -> None:
    """The one line ``--help`` shows without importing a command is the line its own help starts with."""
    command = cli.load_command(name)
    assert command.name == name
    own = (command.help or "").strip().split("\n")[0]
    assert own == cli.COMMANDS[name].summary


def test_help_lists_every_command_and_a_command_still_runs() -> None:
    group = click.Context(cli.LazyGroup(name="x"))
    assert cli.LazyGroup(name="x").list_commands(group) == list(cli.COMMANDS)
    help_text = subprocess.run([sys.executable, "-m", "collapse_audit", "--help"], capture_output=True, text=True,
                               env={**os.environ, "COLUMNS": "200"}, check=True).stdout
    for name, spec in cli.COMMANDS.items():
        assert name in help_text and spec.summary[:40] in help_text
    schema = subprocess.run([sys.executable, "-m", "collapse_audit", "schema", "policy"], capture_output=True,
                            text=True, check=False)
    assert schema.returncode == 0 and '"$schema"' in schema.stdout
    unknown = subprocess.run([sys.executable, "-m", "collapse_audit", "nosuch"], capture_output=True, text=True,
                             check=False)
    assert unknown.returncode == 2 and "No such command" in unknown.stderr
