"""``collapse-audit init``: a commented starter policy, a GitHub Actions workflow and a pre-commit hook.

It never overwrites: if any target exists it writes nothing and says which (``--skip-existing``
writes only the missing ones).
"""

from __future__ import annotations

import json
import os
import shlex
from importlib import metadata, resources

import typer

from ..errors import AuditError
from .common import user_errors

#: (template in collapse_audit/templates, path written, what it is)
FILES = (
    ("collapse-audit.yaml", "collapse-audit.yaml", "starter policy"),
    ("github-workflow.yaml", os.path.join(".github", "workflows", "collapse-audit.yml"), "GitHub Actions workflow"),
    ("pre-commit-config.yaml", ".pre-commit-config.yaml", "pre-commit hook"),
)


def _template(name: str) -> str:
    return resources.files("collapse_audit.templates").joinpath(name).read_text(encoding="utf-8")


#: where the project lives (pyproject's Project-URL "Repository"); used when metadata is unavailable
REPOSITORY = "https://github.com/collapse-audit/collapse-audit"


def _release() -> tuple[str, str]:
    """(repository URL, release tag) of the installed collapse-audit, from its package metadata."""
    try:
        meta = metadata.metadata("collapse-audit")
        version = meta["Version"]
        urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [] if ", " in u)
        return urls.get("Repository", REPOSITORY), f"v{version}"
    except metadata.PackageNotFoundError:
        from .. import __version__

        return REPOSITORY, f"v{__version__}"


def default_install() -> str:
    """A pip requirement that cannot be squatted: the project's git repository at this release's tag.

    (A bare ``pip install collapse-audit`` would take whatever holds that name on the index.)
    """
    repo, tag = _release()
    return f"collapse-audit @ git+{repo}@{tag}"


def _paths(data: str) -> list[str]:
    """Workflow ``paths:`` filters: the data (a directory's whole tree) and the policy."""
    data = data.rstrip("/") or data
    globbed = any(ch in data for ch in "*?[")
    pats = [data] if globbed else [data, f"{data}/**"]
    return [*pats, "collapse-audit.yaml"]


def render_files(data: str, install: str | None = None) -> dict[str, str]:
    """Relative path -> file text, with DATA (the path the workflow and hook scan) filled in."""
    if not data or any(ch in data for ch in "\r\n\0"):
        raise AuditError("--data must be a single-line path, directory or glob.")
    install = install or default_install()
    if any(ch in install for ch in "\r\n\0"):
        raise AuditError("--install must be a single-line pip requirement.")
    repo, tag = _release()
    paths = "\n".join(f"      - {json.dumps(p)}" for p in _paths(data))
    out = {}
    for template, target, _ in FILES:
        text = _template(template)
        text = (text.replace("__DATA_ARGS__", json.dumps(data)).replace("__DATA__", shlex.quote(data))
                .replace("__PATHS__", paths).replace("__INSTALL__", shlex.quote(install))
                .replace("__REPO__", repo).replace("__REV__", tag))
        out[target] = text
    return out


@user_errors
def init(
    directory: str = typer.Argument(".", help="Repository root to write into.", show_default=True),
    data: str = typer.Option(
        "data",
        "--data",
        help="What the workflow and the hook scan: a file, directory or glob, relative to the repository root.",
    ),
    skip_existing: bool = typer.Option(
        False, "--skip-existing", help="Write only the files that do not exist yet instead of refusing."
    ),
    install: str = typer.Option(
        None, "--install", help="The pip requirement the workflow installs. Default: this release from the "
        "project's git repository, pinned to its tag (a bare package name could be squatted).",
        show_default=False,
    ),
) -> None:
    """Start auditing a repository: write collapse-audit.yaml, a CI workflow and a pre-commit hook.

    Writes, relative to DIRECTORY:

      collapse-audit.yaml                    commented starter policy (the rules and their limits)

      .github/workflows/collapse-audit.yml   scans --data on every pull request, uploads the HTML report

      .pre-commit-config.yaml                runs the scan before commits that touch data or the policy
                                             (this repository's hook, pinned to this release)

    Existing files are never overwritten: init refuses and names them (or, with --skip-existing,
    leaves them alone and writes the others).
    """
    if not os.path.isdir(directory):
        raise AuditError(f"{directory} is not a directory.")
    files = render_files(data, install)
    existing = [p for p in files if os.path.lexists(os.path.join(directory, p))]
    if existing and not skip_existing:
        raise AuditError(
            f"Refusing to overwrite {', '.join(existing)} in {directory}; "
            f"move {'it' if len(existing) == 1 else 'them'} away or pass --skip-existing to write only the "
            "missing files."
        )
    wrote = []
    for rel, text in files.items():
        if rel in existing:
            continue
        path = os.path.join(directory, rel)
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "x", encoding="utf-8", newline="\n") as fh:  # "x": never clobber, even in a race
                fh.write(text)
        except FileExistsError:
            raise AuditError(f"Refusing to overwrite {path} (it appeared while init was running).") from None
        except OSError as exc:
            raise AuditError(f"Cannot write {path}: {exc.strerror or exc}.") from None
        wrote.append(rel)
    what = {target: desc for _, target, desc in FILES}
    for rel in wrote:
        typer.echo(f"wrote {rel}  ({what[rel]})")
    for rel in existing:
        typer.echo(f"kept  {rel}  (already exists)")
    if wrote:
        typer.echo(f"Next: edit the rules in collapse-audit.yaml, then run `collapse-audit scan {shlex.quote(data)}`.")
