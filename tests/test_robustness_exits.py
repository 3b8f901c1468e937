"""Exit 1 means "policy failed" and nothing else; every other ending is one inert line on stderr."""

from __future__ import annotations

import sys

import pytest
import typer
from helpers import run_cli, words, write_jsonl

from collapse_audit.cli import common
from collapse_audit.cli.common import Terminated, user_errors
from collapse_audit.errors import AuditError
from collapse_audit.text.inert import inert, rich_inert


def _run(fn, capsys, monkeypatch, debug=False):
    if debug:
        monkeypatch.setenv(common.DEBUG_ENV, "1")
    else:
        monkeypatch.delenv(common.DEBUG_ENV, raising=False)
    with pytest.raises((typer.Exit, SystemExit)) as done:
        user_errors(fn)()
    code = getattr(done.value, "exit_code", None)
    code = done.value.code if code is None else code
    return code, capsys.readouterr().err


def _boom():
    raise ValueError("missing\nsecond line")


@pytest.mark.parametrize("exc, code, line", [
    (AuditError("Input path not found: a\x1b[2Jb."), 2, "collapse-audit: error: Input path not found: a\\x1b[2Jb."),
    (KeyboardInterrupt(), 130, "collapse-audit: interrupted"),
    (Terminated(), 143, "collapse-audit: terminated"),
    (RecursionError("maximum recursion depth exceeded"), 2,
     "collapse-audit: internal error: RecursionError: maximum recursion depth exceeded "
     "(run with --debug for the traceback)"),
    (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), 2, "internal error: UnicodeEncodeError"),
])
def test_every_ending_has_its_code_and_one_line(capsys, monkeypatch, exc, code, line):
    def fn():
        raise exc

    got, err = _run(fn, capsys, monkeypatch)
    assert got == code
    assert len(err.splitlines()) == 1, err
    assert line in err
    assert "Traceback" not in err and "\x1b" not in err and "\ud800" not in err


def test_internal_error_is_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    code, err = _run(_boom, capsys, monkeypatch)
    assert code == 2
    assert err.splitlines() == ["collapse-audit: internal error: ValueError: missing second line "
                                "(run with --debug for the traceback)"]
    code, err = _run(_boom, capsys, monkeypatch, debug=True)
    assert code == 2
    assert "Traceback" in err and "_boom" in err
    assert err.splitlines()[-1].startswith("collapse-audit: internal error: ValueError")


def test_typer_exits_pass_through(capsys, monkeypatch):
    def fn():
        raise typer.Exit(1)

    code, err = _run(fn, capsys, monkeypatch)
    assert code == 1 and err == ""


def test_main_catches_what_escapes_a_command(capsys, monkeypatch):
    from collapse_audit import cli

    def broken(*args, **kwargs):
        raise ValueError("escaped")

    monkeypatch.setattr(cli, "app", broken)
    monkeypatch.setattr(sys, "argv", ["collapse-audit", "--debug", "scan"])
    monkeypatch.delenv(common.DEBUG_ENV, raising=False)
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" in err  # --debug was taken from the command line
    assert err.splitlines()[-1] == ("collapse-audit: internal error: ValueError: escaped "
                                    "(run with --debug for the traceback)")
    assert sys.argv == ["collapse-audit", "scan"]


def test_hostile_file_name_in_an_error_is_inert(tmp_path):
    name = tmp_path / "\x1b]8;;http:evil\x1b\\click\x1b]8;;\x1b\\\u202e.jsonl"
    proc = run_cli("scan", name, "-q")
    assert proc.returncode == 2
    assert "\x1b" not in proc.stderr and "\u202e" not in proc.stderr
    assert "\\x1b]8;;http:evil" in proc.stderr and "\\u202e" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


def test_exit_1_only_for_a_failed_policy(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": i, "text": words(i % 3)} for i in range(30)])
    pol = tmp_path / "p.yaml"
    pol.write_text("rules:\n  - {id: CA202, metric: duplicates.exact_fraction, max: 0.1}\n")
    proc = run_cli("scan", corpus, "-p", pol, "-q", "-f", "json", "-o", tmp_path / "r.json")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""


def test_broken_pipe_on_stdout_is_not_a_policy_failure(tmp_path):
    import subprocess

    from helpers import REPO

    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": i, "text": words(i), "provenance": "human"} for i in range(200)])
    # --exit-zero: an inconclusive or failed policy exits 0, so a 1 here could only come from the broken pipe
    cmd = f"{sys.executable} -m collapse_audit scan {corpus} -q -f json --exit-zero | head -c 10 > /dev/null; " \
          "echo ${PIPESTATUS[0]}"
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.stdout.strip() in ("0", "2"), out
    assert "Traceback" not in out.stderr


def test_inert_shows_controls_and_keeps_ordinary_text():
    assert inert("plain é 日本 🙂\tok") == "plain é 日本 🙂\tok"
    assert inert("a\x1b[31mred\x07") == "a\\x1b[31mred\\x07"
    assert inert("\x9b2J\u202eevil\u2066\ud800") == "\\x9b2J\\u202eevil\\u2066\\ud800"
    assert inert("two\nlines") == "two\nlines"
    assert inert("two\nlines", newlines=False) == "two\\nlines"
    assert inert("\r") == "\\x0d"
    assert inert(42) == "42"
    assert rich_inert("[bold]x[/] \x1b") == "\\[bold]x\\[/] \\x1b"
    inert("\ud800").encode("utf-8")  # always encodable
