"""Settings a scan runs with: the policy's field mapping and check parameters plus CLI overrides.

Checks receive a ``ScanConfig`` and nothing else, so they never read files or the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldMap:
    """Where things live in a record (dotted paths reach nested fields)."""

    text: str = "text"
    id: str | None = "id"
    provenance: str | None = "provenance"
    source: str | None = "source"
    license: str | None = "license"
    synthetic_values: tuple[str, ...] = ("synthetic", "machine", "model-generated", "llm", "ai-generated")
    human_values: tuple[str, ...] = ("human", "human-written")
    required: tuple[str, ...] = ()
    license_allowlist: tuple[str, ...] | None = None

    def metadata_fields(self) -> list[str]:
        """Every non-text field the scan must read (and nothing more: readers project columns)."""
        names = [self.id, self.provenance, self.source, self.license, *self.required]
        out: list[str] = []
        for n in names:
            if n and n != self.text and n not in out:
                out.append(n)
        return out


@dataclass(frozen=True)
class NearDupConfig:
    threshold: float = 0.8
    ngram: int = 5
    num_perm: int = 128


@dataclass(frozen=True)
class DetectorConfig:
    name: str = "default"
    sample: int = 20000           # score at most this many records (0 = all)
    options: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class ScanConfig:
    fields: FieldMap = FieldMap()
    near_duplicates: NearDupConfig = NearDupConfig()
    detector: DetectorConfig = DetectorConfig()
    seed: int = 0
    workers: int = 1
    batch_size: int = 4096
    # Options for collapse-signal checks (diversity / drift / contamination), straight from the policy.
    diversity: dict = field(default_factory=dict, hash=False, compare=False)
    baseline: str | None = None
    eval_sets: tuple[str, ...] = ()
    contamination: dict = field(default_factory=dict, hash=False, compare=False)
