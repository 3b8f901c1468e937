"""The detector's part of the HTML report, for a reader who is not a statistician.

* the applicability verdict as one plain sentence (the full reason and the test figures, with human
  labels, stay one click away),
* a small inline SVG: the corpus's score histogram against the fitted mixture of the detector's
  validated human and machine score distributions (where those are known: the shipped reference of
  the built-in detector),
* one panel per witness (each model that scored the corpus) and whether their intervals agree,
* one "to settle it" box, instead of the same advice in every inconclusive message.

Every string goes through ``esc``; the figure is drawn from numbers only.
"""

from __future__ import annotations

import re
from typing import Any

from ..policy.evaluate import SETTLE
from ..result import ScanResult
from ..result.formatting import fmt_number, fmt_percent
from ..result.sections import Histogram
from .charts import declared_figures, esc

#: applicability test -> what its failure means, in plain words
TEST_FAILED = {
    "score_fit": "its detector scores do not look like any mix of the human and machine text the detector "
                 "was validated on",
    "feature_shift": "its writing style is far from the validation data",
    "language": "too many of its records are not English prose (other languages, or code)",
}
#: applicability test figure -> label
FIGURE_LABEL = {
    "kl": "misfit of the score histogram (KL)", "kl_excess": "misfit beyond what sampling explains",
    "max_kl_excess": "misfit tolerated", "ambiguous_excess": "excess of scores near the threshold",
    "max_ambiguous_excess": "excess tolerated (near the threshold)",
    "confident_human_excess": "excess of confidently human scores",
    "max_confident_human_excess": "excess tolerated (confidently human)",
    "fitted_share": "machine share of the best-fitting mixture", "outlier_share": "records unlike the validation data",
    "max_share": "share tolerated", "non_english_share": "records not in English", "code_share": "records of code",
    "passed": "passed",
}
TEST_LABEL = {"score_fit": "Scores fit validated text", "feature_shift": "Writing style within range",
              "language": "English prose"}


#: a trailing "...; calibrate ... to settle it" clause, as the detector's notes end
_SETTLE_TAIL = re.compile(r";\s[^;]*\bto settle it\.?$")


def settle_advice(message: str) -> tuple[str, bool]:
    """(the message without the settling advice, whether it carried it): the advice is shown once."""
    for glue in ("; ", ": ", " "):
        if glue + SETTLE in message:
            return message.replace(glue + SETTLE, ""), True
    stripped = _SETTLE_TAIL.sub("", message)
    return stripped, stripped != message


def settle_box(res: ScanResult) -> str:
    """One box saying how to settle every inconclusive rule (empty when none is inconclusive)."""
    stuck = [r.id for r in res.rules if r.status == "inconclusive"]
    if not stuck:
        return ""
    advice = SETTLE[0].upper() + SETTLE[1:]
    return (f'<aside class="settle" id="settle"><h3>To settle {esc(", ".join(stuck))}</h3>\n'
            f"<p>{esc(advice)}. A trusted human-only sample (<code>scan --human-reference FILE</code>) "
            "measures the false-positive side on your own data. Until then the policy's "
            f"<code>on_inconclusive</code> ({esc(res.policy.get('on_inconclusive', 'fail'))}) decides "
            "whether an inconclusive error rule fails the run.</p></aside>\n")


def _scored_prose(reason: str) -> str | None:
    """The count a "too few records" reason names, as the words a reader needs."""
    head = reason.split(":", 1)[0]
    words = head.split()
    if len(words) >= 2 and words[0] == "only" and words[1].isdigit():
        return words[1]
    return None


def applicability_sentence(res: ScanResult) -> str | None:
    """The applicability state as one sentence a compliance reader can act on."""
    app = res.detector.get("applicability")
    if not isinstance(app, dict):
        return None
    state = str(app.get("state") or "unknown")
    if state == "calibrated":
        return ("The synthetic-share estimate is calibrated: it uses error rates measured on your own labelled or "
                "trusted records.")
    if state == "validated":
        return ("The synthetic-share estimate is validated on this corpus: its scores look like the data the detector "
                "was validated on, so the validation error rates apply.")
    tests: dict = app["tests"] if isinstance(app.get("tests"), dict) else {}
    why = [TEST_FAILED.get(name, name.replace("_", " ")) for name, t in tests.items()
           if isinstance(t, dict) and t.get("passed") is False]
    few = _scored_prose(str(app.get("reason") or ""))
    if few:
        why.insert(0, f"only {few} of its scored records are prose the detector can judge, fewer than the 300 "
                      "needed to test it")
    because = " and ".join(why) if why else "it lies outside the detector's validated domain"
    return (f"The synthetic-share estimate is not validated on this corpus, because {because}; it is reported "
            "with a widened interval and can fail a cap but never pass one.")


def _reference_mixture(res: ScanResult, edges: list[float]) -> list[float] | None:
    """Expected share of records per histogram bin under the fitted mixture, or None when the
    detector's validated score distributions are not known to this renderer."""
    det = res.detector
    tests = (det.get("applicability") or {}).get("tests") if isinstance(det.get("applicability"), dict) else None
    fit = tests.get("score_fit") if isinstance(tests, dict) else None
    share = fit.get("fitted_share") if isinstance(fit, dict) else None
    if not isinstance(share, (int, float)) or det.get("name") != "default":
        return None
    try:
        from ..detectors.applicability import load_reference

        ref = load_reference("default")
    except Exception:  # a report must render without the reference: the figure then shows the corpus only
        return None
    if ref is None or ref.meta.get("version") != det.get("version"):
        return None
    ref_edges = [0.0, *(float(e) for e in ref.score.edges), 1.0]
    pos = ref.score.pos / ref.score.pos.sum()
    neg = ref.score.neg / ref.score.neg.sum()
    mass = [share * p + (1 - share) * n for p, n in zip(pos, neg, strict=True)]
    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):   # uniform density within a reference bin
        out.append(sum(m * max(0.0, min(b, r1) - max(a, r0)) / (r1 - r0)
                       for m, r0, r1 in zip(mass, ref_edges[:-1], ref_edges[1:], strict=True) if r1 > r0))
    return out


def _n(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def mixture_figure(res: ScanResult) -> str:
    """The corpus's score histogram (bars) against the fitted mixture (line), inline SVG."""
    # the score histogram as the synthetic check declares it (``Check.figures``), validated there
    hist = next((f for f in declared_figures(res) if isinstance(f, Histogram) and f.key == "synthetic"), None)
    if hist is None:
        return ""
    edges, counts = hist.edges, hist.counts
    total = sum(counts) or 1
    shares = [c / total for c in counts]
    mix = _reference_mixture(res, edges)
    w, h, left, top, bottom = 320, 150, 34, 10, 30
    pw, ph = w - left - 8, h - top - bottom
    ymax = max(shares + (mix or [])) or 1.0
    xs = [left + (e - edges[0]) / ((edges[-1] - edges[0]) or 1) * pw for e in edges]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" '
           'aria-labelledby="fit-t"><title id="fit-t">Score histogram of the corpus against the fitted mixture'
           "</title>\n"]
    for x0, x1, s in zip(xs[:-1], xs[1:], shares, strict=True):
        bh = s / ymax * ph
        out.append(f'<rect x="{_n(x0 + .5)}" y="{_n(top + ph - bh)}" width="{_n(max(.5, x1 - x0 - 1))}" '
                   f'height="{_n(bh)}" fill="#8fa7c9"/>')
    if mix:
        pts = " ".join(f"{_n((x0 + x1) / 2)},{_n(top + ph - m / ymax * ph)}"
                       for x0, x1, m in zip(xs[:-1], xs[1:], mix, strict=True))
        out.append(f'\n<polyline points="{pts}" fill="none" stroke="#b42318" stroke-width="2"/>')
    out.append(f'\n<line class="axis" x1="{left}" y1="{top + ph}" x2="{w - 8}" y2="{top + ph}"/>')
    for k in range(3):
        out.append(f'<text class="tick" x="{_n(left + pw * k / 2)}" y="{top + ph + 13}" '
                   f'text-anchor="middle">{k / 2:g}</text>')
    out.append(f'<text class="tick" x="{_n(left + pw / 2)}" y="{h - 3}" text-anchor="middle">detector score</text>'
               "\n</svg>\n")
    legend = ("bars: the corpus's records by score; line: the best mix of validated human and machine text "
              if mix else "bars: the corpus's records by score (the detector's validated distributions are not "
              "known to this report, so no fitted mixture is drawn)")
    return ('<figure class="small-figure" id="fit-figure"><figcaption>Do the scores look like validated text?'
            f"</figcaption>\n{''.join(out)}<p class=\"note\">{esc(legend)}.</p></figure>\n")


def _witness_block(res: ScanResult) -> dict:
    """The result's ``detector.witnesses`` block ({count, list, agree, families, ...}), or {}."""
    block = res.detector.get("witnesses")
    return block if isinstance(block, dict) else {}


def _witness_rows(res: ScanResult) -> list[dict]:
    return [w for w in _witness_block(res).get("list") or [] if isinstance(w, dict)]


def _interval_bar(lo: Any, hi: Any, est: Any) -> str:
    if not all(isinstance(v, (int, float)) for v in (lo, hi, est)):
        return ""
    w, pad = 220, 6
    x = [pad + float(v) * (w - 2 * pad) for v in (lo, hi, est)]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} 18" role="img" aria-label="interval">'
            f'<line class="axis" x1="{pad}" y1="9" x2="{w - pad}" y2="9"/>'
            f'<rect x="{_n(x[0])}" y="4" width="{_n(max(1.0, x[1] - x[0]))}" height="10" fill="#8fa7c9"/>'
            f'<line x1="{_n(x[2])}" y1="1" x2="{_n(x[2])}" y2="17" stroke="#1d2330" stroke-width="2"/></svg>')


def witnesses_panels(res: ScanResult) -> str:
    """One small panel per witness, and one line on whether their intervals overlap."""
    rows = _witness_rows(res)
    if not rows:
        return ""
    panels = []
    for w in rows:
        lo, hi, est = w.get("ci_low"), w.get("ci_high"), w.get("estimate")
        text = (f"{fmt_percent(est)} (95% interval {fmt_percent(lo)}–{fmt_percent(hi)})"
                if isinstance(est, (int, float)) else "no estimate")
        scored = f"{fmt_number(w.get('scored'))} records scored" if w.get("scored") is not None else ""
        panels.append(f'<div class="witness"><b>{esc(w.get("name", "witness"))}</b><div>{esc(text)}</div>'
                      f"{_interval_bar(lo, hi, est)}<div class=\"muted small\">{esc(scored)}</div></div>")
    block = _witness_block(res)
    agree = block.get("agree")
    if len(rows) < 2:
        line = ("One witness only: a detector cannot reveal its own blind spots, so this estimate is not "
                "validated by its scores alone.")
    elif agree:
        line = "The witnesses agree: each one's scores fit what the joint estimate predicts for it."
    else:
        line = ("The witnesses disagree: one of them sees text the other cannot place, so the estimate is "
                "unvalidated and its interval covers both.")
    families = block.get("families")
    if len(rows) >= 2 and isinstance(families, dict) and families:
        line += " Joint fit by family: " + ", ".join(
            f"{k} {fmt_percent(v)}" for k, v in families.items() if isinstance(v, (int, float))) + "."
    return ('<div class="witnesses">' + "".join(panels) + "</div>\n"
            + (f"<p><b>{esc(line)}</b></p>\n" if line else ""))


def full_reason(res: ScanResult) -> str:
    """The applicability reason and every test figure with its label, folded away."""
    app = res.detector.get("applicability")
    if not isinstance(app, dict):
        return ""
    rows = []
    for name, t in (app.get("tests") or {}).items():
        if not isinstance(t, dict):
            continue
        figs = "; ".join(f"{FIGURE_LABEL.get(k, k.replace('_', ' '))} "
                         f"{('yes' if v else 'no') if isinstance(v, bool) else fmt_number(v)}"
                         for k, v in t.items() if k != "passed")
        ok = t.get("passed")
        rows.append(f"<tr><td>{esc(TEST_LABEL.get(name, name))}</td><td>{esc('passed' if ok else 'failed')}</td>"
                    f"<td>{esc(figs)}</td></tr>")
    table = ("<div class=\"scroll\"><table><thead><tr><th>Test</th><th>Result</th><th>Figures</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table></div>") if rows else ""
    reason = str(app.get("reason") or "")
    return (f"<details><summary>The full reason and the test figures</summary>\n<p>{esc(reason)}</p>\n{table}"
            "</details>\n")


def detector_block(res: ScanResult) -> str:
    """The applicability sentence, the figure, the witnesses and the folded details, as one block."""
    sentence = applicability_sentence(res)
    if sentence is None and not _witness_rows(res):
        return ""
    return ('<div class="applicability">\n'
            + (f'<p class="plain">{esc(sentence)}</p>\n' if sentence else "")
            + mixture_figure(res) + witnesses_panels(res) + full_reason(res) + "</div>\n")
