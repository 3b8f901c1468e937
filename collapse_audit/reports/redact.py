"""``--redact``: a pure transform of the result applied before any renderer and before JSON output.

* ``excerpts`` - every record excerpt is dropped (the text of the data never leaves the scan).
* ``ids``      - as ``excerpts``, and the ids and file names of example records are replaced by
  short hashes (``h:`` + 12 hex of SHA-256), the same value always giving the same hash so a
  reader who holds the data can still match them.

It walks the result generically (any ``excerpt`` key, any id or file key), so a new check's
examples are redacted without a line here. The mode is recorded in ``run.redact``.

Whatever the mode (none included), the credentials of every URL in the result - a user part
(``s3://KEY:SECRET@...``), a query string (``?X-Amz-Signature=...``) - are replaced by ``***``
first (``readers.storage.hide_url_secrets``): every format, JSON included, goes through here.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from ..errors import AuditError
from ..readers.storage import hide_url_secrets
from ..result import ScanResult

MODES = ("excerpts", "ids")
EXCERPT_KEYS = frozenset({"excerpt", "text", "eval_excerpt", "train_excerpt"})
ID_KEYS = frozenset({"id", "record_id", "eval_id", "train_id"})
FILE_KEYS = frozenset({"file", "eval_file", "train_file"})


def short_hash(value: Any) -> str:
    """A stable short stand-in for an id or file name, so redacted examples can still be matched."""
    return "h:" + hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _walk(node: Any, mode: str) -> Any:
    if isinstance(node, list):
        return [_walk(x, mode) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in EXCERPT_KEYS and isinstance(v, str):
            continue
        if mode == "ids" and k in ID_KEYS | FILE_KEYS and v is not None and not isinstance(v, (dict, list)):
            out[k] = short_hash(v)
        else:
            out[k] = _walk(v, mode)
    return out


def without_url_secrets(node: Any) -> Any:
    """``node`` (JSON-like) with URL credentials hidden in every string, keys included."""
    if isinstance(node, str):
        return hide_url_secrets(node)
    if isinstance(node, list):
        return [without_url_secrets(x) for x in node]
    if isinstance(node, dict):
        return {without_url_secrets(k): without_url_secrets(v) for k, v in node.items()}
    return node


def redact(result: ScanResult, mode: str | None) -> ScanResult:
    """A copy of ``result`` with URL credentials hidden and, by ``mode``, excerpts (and for ``ids``
    also example ids and file names) removed."""
    if mode and mode not in MODES:
        raise AuditError(f"Unknown --redact mode '{mode}' (choose from {', '.join(MODES)}).")
    result = ScanResult.from_dict(without_url_secrets(result.to_dict()))
    if not mode:
        return result
    res = copy.deepcopy(result)
    res.details = _walk(res.details, mode)
    if isinstance(res.records.get("skipped_examples"), list):
        res.records["skipped_examples"] = _walk(res.records["skipped_examples"], mode)
    res.run = {**res.run, "redact": mode}
    return res
