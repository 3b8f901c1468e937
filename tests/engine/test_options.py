"""The CLI and the Python API build their options with one function and refuse the same mistakes
with the same sentence (an ``AuditError``, exit 2 on the command line), before anything is read."""

from __future__ import annotations

import pytest
from helpers import SAMPLE, run_cli

import collapse_audit
from collapse_audit.errors import AuditError


@pytest.mark.parametrize("options, message", [
    ({"engine": "rey"}, "Unknown --engine 'rey' (choose from local, ray)."),
    ({"workers": 0}, "--workers must be a whole number of at least 1 (got 0)."),
    ({"batch_size": 0}, "--batch-size must be a whole number of at least 1 (got 0)."),
    ({"sample": -1}, "--sample must be a whole number of at least 0 (got -1)."),
    ({"workers": 2.5}, "--workers must be a whole number of at least 1 (got 2.5)."),
    ({"seed": True}, "--seed must be a whole number of at least 0 (got True)."),
    ({"shard": (2, 2), "partial": "p"}, "--shard 2/2: I must be between 0 and N-1."),
    ({"shard": (0, 2)}, "--shard needs --partial DIR"),
    ({"shard": "0/2", "partial": "p"}, "--shard must look like I/N, e.g. 0/4 (got '0/2')."),
])
def test_the_api_refuses_bad_options_with_the_documented_error(options, message):
    with pytest.raises(AuditError) as err:
        collapse_audit.scan(str(SAMPLE), **options)
    assert str(err.value).startswith(message)


def test_the_cli_prints_the_same_sentence():
    done = run_cli("scan", str(SAMPLE), "--engine", "rey", "-q")
    assert done.returncode == 2
    assert "Unknown --engine 'rey' (choose from local, ray)." in done.stderr
    done = run_cli("scan", str(SAMPLE), "--shard", "3/2", "--partial", "x", "-q")
    assert done.returncode == 2 and "--shard 3/2: I must be between 0 and N-1." in done.stderr


def test_unknown_keywords_are_a_type_error():
    with pytest.raises(TypeError, match="unknown option"):
        collapse_audit.scan(str(SAMPLE), engines="ray")
