"""Start-up stays light: ``--version`` and ``--help`` import no command, check or heavy library.

The module set is read from ``python -X importtime`` in a fresh interpreter (the only honest way:
this test process has long imported everything). Time itself is measured in
``benchmarks/startup.py``, not here.
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
# Everything of the package that --version may load: the CLI root and what its error handling needs.
ALLOWED_OWN = {"collapse_audit", "collapse_audit.version", "collapse_audit.errors", "collapse_audit.outputs",
               "collapse_audit.text", "collapse_audit.text.inert", "collapse_audit.cli",
               "collapse_audit.cli.common", "collapse_audit.__main__"}


def imported_modules(*args: str) -> set[str]:
    """The modules a fresh ``python -m collapse_audit ARGS`` imports."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "collapse_audit", *args],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"}, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_version_and_help_import_nothing_heavy(args: tuple[str, ...]) -> None:
    mods = imported_modules(*args)
    assert "collapse_audit.cli" in mods            # the probe itself works
    heavy = sorted(m for m in mods if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert not heavy, f"{' '.join(args)} imports {heavy}"
    own = {m for m in mods if m.split(".")[0] == "collapse_audit"}
    assert own <= ALLOWED_OWN, f"{' '.join(args)} also imports {sorted(own - ALLOWED_OWN)}"


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
