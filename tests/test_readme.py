"""Everything the README documents exists: its commands, their options, and its example commands run.

A user copies commands from the README first; an option it names that the CLI lacks ("No such
option: --format") is the first thing a newcomer hits. The command table and the option lists are
parsed and checked against the Typer app itself, and every example command runs on the sample data.
"""

from __future__ import annotations

import functools
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest
import typer
from helpers import REPO, run_cli

from collapse_audit.cli import app

README = (REPO / "README.md").read_text(encoding="utf-8")
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


@functools.cache
def _root():
    """The CLI as Click sees it (Typer's group, with every command and its parameters)."""
    return typer.main.get_command(app)


def _options(command) -> set[str]:
    return {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}


def _sub(group, name: str):
    """Sub-command ``name`` of ``group`` (the root group imports its commands lazily), or None."""
    getter = getattr(group, "get_command", None)
    return getter(None, name) if getter is not None else None


def _commands(words: list[str]) -> list:
    """The commands a README cell names (``detector train|eval``: each alternative)."""
    level = [_root()]
    for word in words:
        parts = word.split("|")
        subs = [_sub(level[0], p) for p in parts] if len(level) == 1 else [None]
        if not all(subs):
            break
        level = subs
    return [] if level == [_root()] else level


def _table_rows() -> list[tuple[str, str]]:
    """(command cell, description cell) of the README's command table."""
    section = README.split("## Commands", 1)[1].split("\n\n", 2)[1]
    rows = [line.split(" | ", 1) for line in section.splitlines() if line.startswith("| `collapse-audit")]
    assert len(rows) >= 9, "the README's command table is not where this test looks for it"
    return [(cmd.strip("| "), rest) for cmd, rest in rows]


def _cell_commands(cell: str) -> list:
    out: list = []
    for code in re.findall(r"`collapse-audit ([^`]+)`", cell):
        out += _commands(code.split())
    return out


@pytest.mark.parametrize("cell,rest", _table_rows())
def test_every_command_and_option_in_the_table_exists(cell, rest):
    commands = _cell_commands(cell)
    assert commands, f"{cell} names no command of the CLI"
    for code in re.findall(r"`([^`]+)`", cell + rest):
        # a span naming another command (`scan --shard i/N`) documents that command's options
        words = code.removeprefix("collapse-audit ").split()
        owners = _commands(words) or commands
        for opt in OPTION.findall(code):
            assert any(opt in _options(c) for c in owners), f"{opt} (README: {code}) is not an option of it"


def test_every_scan_option_in_the_option_list_exists():
    listed = README.split("`scan` options:", 1)[1].split("`collapse-audit --version`", 1)[0]
    opts = {o for code in re.findall(r"`([^`]+)`", listed) for o in OPTION.findall(code)}
    assert len(opts) >= 30, opts
    missing = opts - _options(_sub(_root(), "scan"))
    assert not missing, f"documented scan options missing from the CLI: {sorted(missing)}"


def test_global_options_exist():
    root = _options(_root())
    assert {"--version", "-h", "--install-completion"} <= root
    r = run_cli("--debug", "rules", "list")
    assert r.returncode == 0 and "CA101" in r.stdout


def _examples() -> list[str]:
    """Every `collapse-audit ...` (and `python -c ...`) command in the README's shell blocks."""
    out: list[str] = []
    for lang, body in re.findall(r"```(bash|text)\n(.*?)```", README, re.S):
        for line in body.splitlines():
            if lang == "text":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            if line.startswith("python -c "):
                out.append(line)
                continue
            for part in re.split(r"&&|;", line.split("  #", 1)[0]):
                if part.strip().split(" ", 1)[0].endswith("collapse-audit"):
                    out.append(part.strip())
    return out


#: the command table's entries run as examples, with its placeholders filled in
TABLE_EXAMPLES = [
    "collapse-audit rules list --format json",
    "collapse-audit rules explain CA101",
    "collapse-audit schema policy",
    "collapse-audit profile sample_data/ -o baseline.json",
    "collapse-audit report audit.json -f html -o report.html --redact excerpts",
    "collapse-audit init init-here --data sample_data",
]


def test_every_example_command_runs_on_the_sample_data(tmp_path):
    shutil.copytree(REPO / "sample_data", tmp_path / "sample_data")
    (tmp_path / "init-here").mkdir()
    examples = _examples()
    assert len(examples) >= 8, examples
    for example in [*examples, *TABLE_EXAMPLES]:
        argv = shlex.split(example.replace("data/", "sample_data/").replace("sample_sample_data", "sample_data"))
        if argv[0] == "python":
            argv[0] = sys.executable
        else:
            argv = argv[1:]
        r = run_cli(*argv, cwd=tmp_path) if argv[0] != sys.executable else _run(argv, tmp_path)
        # 1 is the policy failing (the sample is built to fail); 2 would mean the example cannot run
        assert r.returncode in (0, 1), f"{example}: exit {r.returncode}\n{r.stderr}"
        if argv[:2] == ["rules", "list"]:
            import json

            assert {r["id"] for r in json.loads(r.stdout)} >= {"CA101", "CA501", "CA410"}
    assert (tmp_path / "init-here" / "collapse-audit.yaml").is_file()
    assert (tmp_path / "report.html").is_file() and (tmp_path / "sample_clean").is_dir()


def _run(argv: list[str], cwd: Path):
    import subprocess

    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_piped_rules_list_keeps_every_row_whole():
    r = run_cli("rules", "list")
    assert r.returncode == 0
    rows = [line for line in r.stdout.splitlines() if line.strip().startswith("CA")]
    assert any(len(line) > 80 for line in rows)
    for row in rows:
        assert row.split()[2].count(".") >= 1, row      # the metric column is whole, not folded
    assert not any(line.startswith(" ") and not line.strip().startswith(("CA", "id")) for line in r.stdout
                   .splitlines() if line.strip())
