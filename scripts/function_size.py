"""List the functions of ``collapse_audit/`` that are too long or too branchy to read at once.

    python scripts/function_size.py [--max-lines 60] [--max-complexity 14] [--all]

A function is listed when it spans more than ``--max-lines`` lines (from ``def`` to its last line,
decorators and docstring included) or its cyclomatic complexity is 15 or more. Complexity is
counted as mccabe (and ruff's C901) count it: 1, plus 1 for every ``if``/``elif``, loop,
``except`` clause and ``match`` case (boolean operators, conditional expressions and
comprehensions add nothing, as in mccabe); a function nested inside another adds 1 and its own
count to its enclosing function (mccabe's closures); methods and top-level functions are measured
alone. ``ruff check --select C901`` gives the same numbers.

Exit status: 1 when a function is listed that is not in ``ALLOWED`` below, 0 otherwise. The
allow-list stays short (at most 5) and each entry says why that function is better left whole.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "collapse_audit"
MAX_LINES = 60
MAX_COMPLEXITY = 14          # complexity 15 or more is listed

#: "module.path:qualified.name" -> why it stays as it is (at most 5 entries).
ALLOWED: dict[str, str] = {
    "collapse_audit.cli.scan:scan": "a Typer command: its length is the signature that declares the scan's "
                                    "33 options (shared ones from cli/options.py) and the help text; the body "
                                    "is 30 lines that build ScanOptions with scan_options() and emit",
}

_BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.ExceptHandler, ast.match_case)


@dataclass(frozen=True)
class Measured:
    """One function: where it is and its two sizes."""

    key: str          # module:qualname
    path: str
    line: int
    lines: int
    complexity: int


def complexity(fn: ast.AST) -> int:
    """mccabe's count for ``fn``: 1 + its decision points, nested functions' included."""
    count = 1
    for node in ast.walk(fn):
        if node is fn:
            continue
        if isinstance(node, (*_BRANCHES, ast.FunctionDef, ast.AsyncFunctionDef)):
            count += 1
    return count


def functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(qualified name, node) of every top-level function and method (classes nest; functions do not)."""
    stack: list[tuple[str, ast.AST]] = [("", tree)]
    while stack:
        prefix, node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield prefix + child.name, child
            elif isinstance(child, ast.ClassDef):
                stack.append((f"{prefix}{child.name}.", child))


def measure(package: Path = PACKAGE) -> list[Measured]:
    """Every function of the package with its length and complexity, in file order."""
    out = []
    for path in sorted(package.rglob("*.py")):
        module = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, fn in functions(tree):
            first = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
            out.append(Measured(f"{module}:{name}", str(path.relative_to(package.parent)), fn.lineno,
                                (fn.end_lineno or fn.lineno) - first + 1, complexity(fn)))
    return sorted(out, key=lambda m: (m.path, m.line))


def main(argv: list[str] | None = None) -> int:
    """Print the listed functions; exit 1 if one is not allowed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-lines", type=int, default=MAX_LINES)
    parser.add_argument("--max-complexity", type=int, default=MAX_COMPLEXITY)
    parser.add_argument("--all", action="store_true", help="Print every function, not only the listed ones.")
    args = parser.parse_args(argv)
    found = measure()
    over = [m for m in found if m.lines > args.max_lines or m.complexity > args.max_complexity]
    shown = found if args.all else over
    for m in shown:
        mark = "allowed" if m.key in ALLOWED else ("OVER" if m in over else "")
        print(f"{m.path}:{m.line}  {m.key.split(':')[1]}  lines={m.lines} complexity={m.complexity}  {mark}".rstrip())
    unexplained = [m for m in over if m.key not in ALLOWED]
    stale = sorted(set(ALLOWED) - {m.key for m in over})
    for key in stale:
        print(f"allow-list entry no longer needed: {key}")
    print(f"{len(over)} of {len(found)} functions over {args.max_lines} lines or complexity "
          f"{args.max_complexity + 1}+; {len(unexplained)} not allowed", file=sys.stderr)
    return 1 if unexplained or len(ALLOWED) > 5 else 0


if __name__ == "__main__":
    sys.exit(main())
