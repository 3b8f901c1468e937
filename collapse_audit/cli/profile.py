"""``collapse-audit profile``: freeze a compact baseline profile of a trusted corpus."""

from __future__ import annotations

import sys

import typer

from ..outputs import atomic_path, check_outputs
from ..text.inert import inert
from .common import user_errors


@user_errors
def profile(
    paths: list[str] = typer.Argument(..., help="The trusted corpus: Parquet or JSONL files, directories or globs.",
                                      show_default=False),
    output: str = typer.Option(..., "--output", "-o", help="Where to write the profile JSON."),
    policy: str | None = typer.Option(None, "--policy", "-p", help="Policy YAML (fields, diversity settings, "
                                         "detector). Default as for scan."),
    text_field: str | None = typer.Option(None, "--text-field", help="Field holding the text."),
    detector: str | None = typer.Option(None, "--detector", help="Detector whose score histogram the profile "
                                           "keeps (for drift.score_psi). Default from the policy."),
    sample: int | None = typer.Option(None, "--sample", min=0, help="Score at most N records (0 = all). "
                                         "Default from the policy."),
    no_scores: bool = typer.Option(False, "--no-scores", help="Do not run the detector; the profile then has "
                                   "no score histogram and scans against it report no drift.score_psi."),
    top_k: int = typer.Option(65536, "--top-k", min=16, help="Most frequent tokens kept exactly in the token "
                              "distribution sketch (the rest go to 65,536 hash buckets)."),
    max_bad_records: int = typer.Option(0, "--max-bad-records", min=0, help="Tolerate up to N unreadable records."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed for the self-similarity and detector samples."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Worker processes (default: all CPUs)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary on stderr."),
) -> None:
    """Freeze a baseline profile of a trusted (human) corpus for `scan --baseline`.

    The profile is one small JSON file (a few MB at most, whatever the corpus size): the token
    distribution sketch, token-length and synthetic-score histograms, and the diversity figures.
    `scan --baseline FILE` then reports drift.* metrics (Jensen-Shannon and KL divergence, PSI,
    changes in diversity) that rules CA4xx can cap.
    """
    from ..engine.profile import build_profile
    from ..engine.scan import ScanOptions, default_workers
    from ..signals.profile import save_profile

    check_outputs([output], [*paths, *([policy] if policy else [])])  # before anything is read
    opts = ScanOptions(paths=paths, policy=policy, text_field=text_field, detector=detector, sample=sample,
                       max_bad_records=max_bad_records, seed=seed, workers=workers or default_workers(),
                       progress=not quiet)
    data = build_profile(opts, top_k=top_k, scores=not no_scores)
    with atomic_path(output) as tmp:  # the previous profile survives a failed write
        size = save_profile(data, tmp)
    if not quiet:
        f = data["figures"]
        sys.stderr.write(
            f"collapse-audit: profile of {data['records']:,} records written to {inert(output)} ({size / 1e6:.2f} MB): "
            f"entropy {f['token_entropy']:.2f} bits, distinct-2 {f['distinct_2']:.3f}, "
            f"{int(f['types']):,} token types"
            f"{'' if data['scores'] else '; no score histogram'}\n")

