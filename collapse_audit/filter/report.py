"""The filter's plain-text summary: what was (or would be) removed, per reason and source."""

from __future__ import annotations

import os

from .manifest import examples


def _pct(x: float) -> str:
    return f"{x:.1%}"


def render_run(run) -> str:
    """The console summary of a filter run: counts kept and removed, per source, and the cap."""
    m = run.manifest
    rec = m["records"]
    dry = run.written_to is None
    lines = [("Dry run: nothing written. " if dry else "")
             + f"{rec['input']} input records: {rec['kept']} kept, {rec['removed']} "
             + ("would be removed" if dry else "removed") + f", {rec['tolerated_bad']} unreadable (tolerated)."]
    if m["removed_by_reason"]:
        lines.append("Removed by rule:")
        for rule, n in m["removed_by_reason"].items():
            if n:
                lines.append(f"  {rule:<8} {n:>8}")
    if len(m["by_source"]) > 1 or any(k != "(all)" for k in m["by_source"]):
        lines.append("Per source (kept / records):")
        for name, s in m["by_source"].items():
            detail = ", ".join(f"{r} {c}" for r, c in s["removed_by_reason"].items())
            removed = f"  removed: {detail}" if detail else ""
            lines.append(f"  {name:<20} {s['kept']:>7} / {s['records']:<7}{removed}")
    cap = m.get("synthetic_cap")
    if cap:
        lines.append(f"Synthetic cap {_pct(cap['cap'])}: {cap['removed_declared']} of {cap['declared_synthetic']} "
                     f"declared-synthetic records removed, {cap['removed_by_score']} removed by detector score.")
        exp = cap.get("expected_share_output")
        if exp:
            lines.append(f"  expected synthetic share of the output {_pct(exp['estimate'])} "
                         f"(95% interval {_pct(exp['ci_low'])}-{_pct(exp['ci_high'])}), from the pre-filter scores: "
                         "a re-scan of the output under-states it, because what stays is what the detector misses.")
        if cap.get("note"):
            lines.append(f"  note: {cap['note']}")
    skipped = [r for r in m["rules"]["not_acted_on"] if r["why"] == "ignored on the command line"]
    if skipped:
        lines.append("Not acted on (--ignore): " + ", ".join(r["id"] for r in skipped))
    ex = examples(run.records, run.plan)
    if ex:
        lines.append("First removed records:" if not dry else "First records that would be removed:")
        for rule, rows in ex.items():
            for r in rows:
                lines.append(f"  {rule}  {r}")
    if not dry:
        files = ", ".join(o["file"] for o in m["outputs"][:6]) + (" ..." if len(m["outputs"]) > 6 else "")
        lines.append(f"Wrote {len(m['outputs'])} file(s) to {run.written_to}: {files}")
        lines.append(f"Manifest: {os.path.join(run.written_to, '.manifest', 'manifest.json')} and removed.parquet")
    return "\n".join(line.rstrip() for line in lines) + "\n"
