"""``collapse-audit init``: a commented starter policy, a GitHub Actions workflow and a pre-commit hook.

It never overwrites: if any target exists it writes nothing and says which (``--skip-existing``
writes only the missing ones).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

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
#: what the workflow installs when the repository an installation came from cannot be known
PLACEHOLDER_URL = "REPLACE-WITH-THE-GIT-URL-OF-YOUR-COLLAPSE-AUDIT"


@dataclass(frozen=True)
class Pin:
    """What the workflow installs and the pre-commit hook references: the installation's own origin.

    ``requirement`` is a pip requirement; ``repo``/``rev`` the git repository and commit (for
    pre-commit), ``note`` a comment for the workflow saying where the pin came from or what to fill in.
    """

    requirement: str
    repo: str
    rev: str
    note: str


def _git(cwd: str, *args: str) -> str | None:
    """``git ARGS`` in ``cwd`` (stdout stripped), or None where git or the checkout is missing."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def _clone_url(remote: str) -> str:
    """A remote as pip's ``git+`` takes it: scp-style ``git@host:org/repo`` becomes https (a CI runner
    has no SSH key for it); a plain path becomes a ``file://localhost/`` URL (a requirement's URL
    needs a host to parse, and git reads ``localhost`` as this machine)."""
    if re.match(r"^[\w.-]+@[\w.-]+:(?!//)", remote):
        host, path = remote.split("@", 1)[1].split(":", 1)
        return f"https://{host}/{path}"
    if "://" not in remote:
        remote = Path(remote).resolve().as_uri()
    return "file://localhost/" + remote[len("file:///"):] if remote.startswith("file:///") else remote


def _local_pin(url: str, version: str) -> Pin:
    """Installed from a local directory (``pip install .``): its git remote at its HEAD commit."""
    path = url2pathname(urlparse(url).path)
    commit = _git(path, "rev-parse", "HEAD")
    remote = _git(path, "config", "--get", "remote.origin.url") if commit else None
    if commit and remote:
        repo = _clone_url(remote)
        return Pin(f"collapse-audit @ git+{repo}@{commit}", repo, commit,
                   f"Pinned to the commit of {path} that was installed, from its remote origin.")
    what = (f"commit {commit} of {path}, which has no remote" if commit
            else f"{path}, which is not a git checkout")
    return Pin(f"collapse-audit @ git+{PLACEHOLDER_URL}@{commit or 'v' + version}", PLACEHOLDER_URL,
               commit or f"v{version}", f"FILL IN: collapse-audit was installed from {what}; replace "
               f"{PLACEHOLDER_URL} with the git URL this job can clone it from (and the commit if needed).")


def pin_from_direct_url(direct: dict[str, Any] | None, version: str) -> Pin:
    """The pin for an installation described by PEP 610 ``direct_url.json`` (None: from an index)."""
    if not direct:
        return Pin(f"collapse-audit=={version}", REPOSITORY, f"v{version}",
                   f"Pinned to the release installed from the package index ({version}).")
    url = str(direct.get("url", ""))
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("commit_id"):
        commit = str(vcs["commit_id"])
        return Pin(f"collapse-audit @ {vcs.get('vcs', 'git')}+{url}@{commit}", url, commit,
                   "Pinned to the repository and commit collapse-audit was installed from.")
    if "dir_info" in direct and url.startswith("file:"):
        return _local_pin(url, version)
    return Pin(f"collapse-audit @ {url}", REPOSITORY, f"v{version}",
               "Pinned to the archive collapse-audit was installed from.")


def installed_pin() -> Pin:
    """The pin of the running installation, from its metadata (``direct_url.json``)."""
    try:
        dist = metadata.distribution("collapse-audit")
    except metadata.PackageNotFoundError:
        from .. import __version__

        return _local_pin(Path(__file__).resolve().parents[2].as_uri(), __version__)
    text = dist.read_text("direct_url.json")
    try:
        direct = json.loads(text) if text else None
    except ValueError:
        direct = None
    return pin_from_direct_url(direct, dist.version)


def default_install() -> str:
    """A pip requirement that cannot be squatted and that is what the user runs: the installation's
    own repository at its commit, or the exact release when it came from an index."""
    return installed_pin().requirement


def _paths(data: str) -> list[str]:
    """Workflow ``paths:`` filters: the data (a directory's whole tree) and the policy."""
    data = data.rstrip("/") or data
    globbed = any(ch in data for ch in "*?[")
    pats = [data] if globbed else [data, f"{data}/**"]
    return [*pats, "collapse-audit.yaml"]


def render_files(data: str, install: str | None = None, pin: Pin | None = None) -> dict[str, str]:
    """Relative path -> file text, with DATA (the path the workflow and hook scan) filled in."""
    if not data or any(ch in data for ch in "\r\n\0"):
        raise AuditError("--data must be a single-line path, directory or glob.")
    pin = pin or installed_pin()
    note = pin.note if install is None else "Pinned to the requirement given to `collapse-audit init --install`."
    install = install or pin.requirement
    if any(ch in install for ch in "\r\n\0"):
        raise AuditError("--install must be a single-line pip requirement.")
    repo, tag = pin.repo, pin.rev
    paths = "\n".join(f"      - {json.dumps(p)}" for p in _paths(data))
    out = {}
    for template, target, _ in FILES:
        text = _template(template)
        text = (text.replace("__DATA_ARGS__", json.dumps(data)).replace("__DATA__", shlex.quote(data))
                .replace("__PATHS__", paths).replace("__INSTALL__", shlex.quote(install))
                .replace("__INSTALL_NOTE__", " ".join(note.split()))
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
        None, "--install", help="The pip requirement the workflow installs. Default: what you installed - the git "
        "repository and commit it came from (a local checkout: its remote at HEAD), or the exact release "
        "from an index (a bare package name could be squatted).",
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
    existing = _existing_targets(directory, files, skip_existing)
    wrote = [rel for rel in files if rel not in existing]
    for rel in wrote:
        _create(os.path.join(directory, rel), files[rel])
    _say_what_was_written(files, wrote, existing, data)


def _existing_targets(directory: str, files: dict[str, str], skip_existing: bool) -> list[str]:
    """The targets already present under ``directory``; refuses them all unless ``--skip-existing``
    (init never overwrites a user's policy, workflow or hook)."""
    existing = [p for p in files if os.path.lexists(os.path.join(directory, p))]
    if existing and not skip_existing:
        raise AuditError(
            f"Refusing to overwrite {', '.join(existing)} in {directory}; "
            f"move {'it' if len(existing) == 1 else 'them'} away or pass --skip-existing to write only the "
            "missing files."
        )
    return existing


def _create(path: str, text: str) -> None:
    """Write a new file (its directory made as needed); a file that appeared meanwhile is refused,
    not clobbered, and a write that fails is one clear error."""
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "x", encoding="utf-8", newline="\n") as fh:  # "x": never clobber, even in a race
            fh.write(text)
    except FileExistsError:
        raise AuditError(f"Refusing to overwrite {path} (it appeared while init was running).") from None
    except OSError as exc:
        raise AuditError(f"Cannot write {path}: {exc.strerror or exc}.") from None


def _say_what_was_written(files: dict[str, str], wrote: list[str], existing: list[str], data: str) -> None:
    """One line per file written or kept, a note when the workflow's install line needs filling in,
    and the next step."""
    what = {target: desc for _, target, desc in FILES}
    for rel in wrote:
        typer.echo(f"wrote {rel}  ({what[rel]})")
    for rel in existing:
        typer.echo(f"kept  {rel}  (already exists)")
    if PLACEHOLDER_URL in files[FILES[1][1]] and FILES[1][1] in wrote:
        typer.echo(f"note: fill in the install line of {FILES[1][1]}: this collapse-audit was installed from a "
                   "checkout with no git remote, so the workflow cannot know where to install it from.")
    if wrote:
        typer.echo(f"Next: edit the rules in collapse-audit.yaml, then run `collapse-audit scan {shlex.quote(data)}`.")
