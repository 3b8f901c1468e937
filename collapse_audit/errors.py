"""User-facing errors.

Anything the user can fix (a bad path, a malformed record, a policy typo) is raised as an
``AuditError`` carrying one sentence that names the file and line/row. The CLI prints that
sentence and exits 2; it never shows a traceback for these.
"""


class AuditError(Exception):
    """The audit could not be run; the message is one sentence for the user."""


class PolicyError(AuditError):
    """The policy file is invalid (YAML error, unknown metric or field)."""
