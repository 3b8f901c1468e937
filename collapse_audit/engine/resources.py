"""What checks need loaded before a scan reads anything, by name: ``{name: Loader}``.

A check says what it needs (``Check.needs``); a loader says when the scan asked for a resource
(``requested``: a ``--baseline``, an ``--eval-set``, an ``--against``) and how to load it. The
engine loads only what the checks that will run need, so a scan none of whose checks scores texts
never loads a detector, and a rule whose check needs a resource nobody asked for is unavailable
(``not_applicable``), not failed. Adding a resource is one ``register_resource`` call here (or in
a plugin); nothing else in the engine names it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..checks.base import Check, DeclarationError
from ..checks.registry import check_for_metric, registered, runnable
from ..config import ScanConfig
from ..readers import InputFile, RecordBatch


@dataclass
class ResourceRequest:
    """What a scan asked for, that resources are loaded from (nothing here is loaded yet)."""

    config: ScanConfig
    files: list[InputFile]
    #: the scan's reader, for side inputs: ``read(paths)``, or ``read(paths, config)`` with the side
    #: input's own fields (an eval set's ``--eval-text-field``)
    read: Callable[..., Iterator[RecordBatch]]
    against: str | None = None                           # an earlier snapshot's state directory
    sample: bool = True                                  # False: the merge of partials scores nothing new
    loaded: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Loader:
    """How one resource is loaded, and whether this scan asked for it at all."""

    load: Callable[[ResourceRequest], Any]
    requested: Callable[[ResourceRequest], bool] = lambda request: True
    #: resources built from this one, loaded with it (checks may use them when present)
    also: tuple[str, ...] = ()


LOADERS: dict[str, Loader] = {}


def register_resource(name: str, load: Callable[[ResourceRequest], Any], *,
                      requested: Callable[[ResourceRequest], bool] | None = None,
                      also: tuple[str, ...] = ()) -> None:
    """Make resource ``name`` loadable; a check lists it in ``needs``."""
    LOADERS[name] = Loader(load, requested or (lambda request: True), tuple(also))


def offered(request: ResourceRequest) -> set[str]:
    """The resources this scan can provide (those it asked for, and those always there)."""
    return {name for name, loader in LOADERS.items() if loader.requested(request)}


def checks_to_run(config: ScanConfig, request: ResourceRequest) -> list[type[Check]]:
    """The check classes this scan runs: those switched on whose needs the scan can provide. A check
    needing a resource nobody registered is a programming error, said before anything is read."""
    for cls in registered():
        unknown = [need for need in cls.needs if need not in LOADERS]
        if unknown:
            raise DeclarationError(f"check {cls.__name__} needs unknown resource(s) {unknown} "
                                   f"(registered: {', '.join(LOADERS)})")
    return runnable(config, offered(request))


def metric_available(request: ResourceRequest) -> Callable[[str], bool]:
    """Whether a metric can be computed in this scan: its check's needs are all offered (a rule on a
    metric whose check needs, say, a baseline nobody passed is not applicable)."""
    have = offered(request)

    def available(metric: str) -> bool:
        check = check_for_metric(metric)
        return check is None or all(need in have for need in check.needs)
    return available


def load_resources(request: ResourceRequest, checks: list[type[Check]]) -> dict[str, Any]:
    """Load what ``checks`` need (and what that is built from), each once, in dependency order."""
    for cls in checks:
        for need in cls.needs:
            _load(need, request)
    return dict(request.loaded)


def _load(name: str, request: ResourceRequest) -> None:
    if name in request.loaded:
        return
    loader = LOADERS[name]
    request.loaded[name] = loader.load(request)
    for companion in loader.also:
        _load(companion, request)


# ---- the built-in resources -------------------------------------------------------------------------

def _detector_options(config: ScanConfig) -> Any:
    return config.option("detector")


def _load_detector(request: ResourceRequest) -> Any:
    from ..detectors.registry import load_detector

    det = _detector_options(request.config)
    return load_detector(det.name, det.detector_options())


def _load_sample_rows(request: ResourceRequest) -> Any:
    from .sample import choose_sample

    det = _detector_options(request.config)
    return choose_sample(request.files, det.sample, request.config.seed) if request.sample else None


def _load_reference(request: ResourceRequest) -> Any:
    """What the share estimate compares the corpus with, checked before anything is read."""
    from ..checks.synthetic import detector_reference

    return detector_reference(request.loaded["detector"])


def _load_calibration(request: ResourceRequest) -> Any:
    from ..checks.synthetic import load_calibration

    return load_calibration(_detector_options(request.config), request.loaded["detector"])


def _load_baseline(request: ResourceRequest) -> Any:
    from ..signals.profile import load_profile

    return load_profile(request.config.baseline or "")


def _load_eval_index(request: ResourceRequest) -> Any:
    from ..signals.eval_index import DEFAULT_NGRAM, build_eval_index
    from ..signals.resources import eval_config

    config = request.config
    opts = config.option("contamination")   # the policy's contamination options, validated at load
    ngram = int(opts.ngram) if opts is not None else DEFAULT_NGRAM
    cfg = eval_config(config)               # the eval sets' own text spec (--eval-text-field)
    sets: Iterable = ((path, request.read([path], cfg)) for path in config.eval_sets)
    return build_eval_index(sets, ngram=ngram, id_field=cfg.fields.id)


def _load_previous(request: ResourceRequest) -> Any:
    from .against import load_previous

    return load_previous(request.against or "", request.config)


register_resource("detector", _load_detector, also=("applicability_reference", "calibration"))
register_resource("sample_rows", _load_sample_rows)
register_resource("applicability_reference", _load_reference)
register_resource("calibration", _load_calibration)
register_resource("baseline", _load_baseline, requested=lambda r: bool(r.config.baseline))
register_resource("eval_index", _load_eval_index, requested=lambda r: bool(r.config.eval_sets))
register_resource("previous", _load_previous, requested=lambda r: bool(r.against))
