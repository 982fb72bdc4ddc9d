"""``nas demo``: the main job end to end on one machine, in under 20 minutes on 2 cores.

Synthetic DensePose data of the proxy scene preset (rendered if absent), the shipped
latency table and the space it was profiled for, a small search (10 trials plus the
light baselines ``densemobile`` and ``densesqueeze``) under a shortened proxy, then the
Pareto front printed, plotted and exported. Running it again continues (or just
reprints) the same run.

It sits above search, Pareto front and export and orchestrates them: those packages
share only the run's data model (:mod:`nas.runs`), never each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from nas.errors import DataError, Interrupted, SearchError
from nas.shipped import DEFAULT_SPACE, DEFAULT_TABLE, recorded_space, shipped
from nas.train.proxy import DEFAULT_PROXY, PROXY_DATA_IMAGES, PROXY_SCENE, proxy_data_config

if TYPE_CHECKING:
    from nas.pareto.analysis import ParetoReport
    from nas.runs.store import ResultsStore
    from nas.search.run import SearchSummary
    from nas.search.config import SearchConfig

__all__ = ["DemoSettings", "run_demo", "DEMO_BASELINES", "DEFAULT_TABLE", "DEFAULT_SPACE"]

DEMO_BASELINES = ("densemobile", "densesqueeze", "fnl_mobile")  # r50_fpn (minutes a step on a CPU) stays a baseline of full searches


@dataclass(frozen=True)
class DemoSettings:
    """The demo's knobs (defaults fit 20 minutes on this repository's 2-core machine).

    Attributes:
        data: dataset folder or descriptor YAML (:mod:`nas.data.source`); a folder is
            rendered with ``images`` synthetic images of the proxy scene preset when absent.
        table: latency table; ``space`` defaults to the space recorded in its meta.json.
        out: run folder.
        trials: searched architectures (baselines come on top).
        steps, val_images: the shortened proxy (default proxy otherwise).
        export_top: front architectures exported.
        min_gps_ap: the learned floor (``nas search --min-gps-ap``): a candidate under it is
            never on the front.
    """

    data: str = "data/proxy"
    table: str = DEFAULT_TABLE
    space: str | None = None
    out: str = "results/demo"
    trials: int = 10
    images: int = PROXY_DATA_IMAGES
    steps: int = 100
    val_images: int = 80  # every val image: fewer make the score noisy (see nas.train.proxy)
    seed: int = 0
    export_top: int = 3
    address: str | None = None
    min_gps_ap: float = 1.0  # nas.search.objective.DEFAULT_MIN_GPS_AP (not imported here: the CLI reads these defaults)


def _space_of(table: Path) -> str:
    """The space the table was profiled for (see :func:`nas.shipped.recorded_space`), else
    the default space."""
    try:
        recorded = json.loads((table / "meta.json").read_text()).get("space", {}).get("path")
    except (OSError, ValueError):
        recorded = None
    found = recorded_space(table, recorded) if recorded else None
    return str(found if found is not None and found.is_file() else shipped(DEFAULT_SPACE))


def _ensure_data(given: Path, images: int, seed: int, echo: Callable[[str], None]) -> None:
    """A descriptor or a dataset folder is used as it is (the search checks it); a folder
    without annotations is rendered."""
    from nas.data.source import DESCRIPTOR_SUFFIXES  # here: the CLI imports this module on every start

    if given.is_file() or (given / "annotations" / "train.json").is_file():
        echo(f"data: {given} (existing)")
        return
    if given.suffix.lower() in DESCRIPTOR_SUFFIXES:  # not rendered into a folder named like a descriptor
        raise DataError(f"dataset descriptor {given} does not exist; give an existing descriptor, or a folder to render "
                        f"synthetic data into (default {DemoSettings.data})")
    from nas.data import generate_dataset

    echo(f"data: rendering {images} synthetic DensePose images ({PROXY_SCENE} scenes) into {given}")
    generate_dataset(given, proxy_data_config(images, seed), workers=2, progress=True)


def _check_data_folder(given: str) -> None:
    """Refuse a ``--data`` the demo could not render a dataset into (empty, the current
    folder, a file, a folder of other files), naming ``--data``: the writer's own checks
    would name ``nas data synth``'s ``--out``."""
    from nas.data.synth.staging import check_replaceable, resolve_out

    path = Path(given)
    if given.strip() and (path.is_file() or (path / "annotations" / "train.json").is_file()):
        return  # an existing dataset, checked whole by the search
    check_replaceable(resolve_out(given, option="--data"), overwrite=False, option="--data")


def run_demo(settings: DemoSettings, echo: Callable[[str], None] = print) -> SearchSummary:
    # imported here: the CLI reads DemoSettings' defaults on every start, Ray takes seconds
    from nas.runs.store import ResultsStore

    table = shipped(DEFAULT_TABLE) if settings.table == DEFAULT_TABLE else Path(settings.table)
    if not (table / "meta.json").is_file():
        raise SearchError(f"the demo's latency table {table} is missing; profile one with "
                          f"`nas profile --space {DEFAULT_SPACE} --out {table}` or pass --table")
    if Path(settings.out).is_file():  # before the data is rendered (seconds to minutes)
        raise SearchError(f"--out {settings.out} is a file; the demo's run is a folder (default results/demo): choose another --out")
    _check_data_folder(settings.data)  # before the space, table and baselines load (seconds)
    data = Path(settings.data)
    store = ResultsStore(settings.out)
    config = None if store.exists() else _search_config(settings, table, data)
    if config is not None:
        from nas.search.prepare import load_models

        load_models(config)  # space, table and baselines checked before the data is rendered (30-40 s)
    _ensure_data(data, settings.images, settings.seed, echo)
    try:
        summary = _search(config, store, settings, echo)
    except Interrupted as stop:  # Ctrl-C: the demo continues where it stopped when run again
        raise Interrupted(f"{stop}, or run the same `nas demo` again") from None
    from nas.pareto import analyse, front_lines, plot_html, plot_png, versus_baseline

    report = analyse(store.root)
    for line in front_lines(report):
        echo(line)
    echo("vs densemobile: " + versus_baseline(report))
    note = _short_proxy_note(report, settings)
    if note:
        echo(note)
    echo(f"plots: {plot_png(report, store.root / 'pareto.png')}  {plot_html(report, store.root / 'pareto.html')}")
    if not report.front:  # every candidate under the learned floor: none is a trade-off worth deploying
        from nas.runs.front import learned_floor

        echo(f"no candidate reached the learned floor (--min-gps-ap {learned_floor(store.load_config()):g} GPS AP), so the front "
             "is empty and nothing is exported; run more trials (`nas demo --trials N` continues this run) or a longer "
             "proxy (--budget-steps)")
        return summary
    from nas.export import export_run

    export_run(store.root, store.root / "export", top=settings.export_top, log=echo)
    return summary


def _short_proxy_note(report: ParetoReport, settings: DemoSettings, baseline: str = "densemobile") -> str:
    """The caveat of a proxy shorter than the default, naming this run's front trials that
    score above ``baseline`` (the picks a short proxy may flatter), or ``""`` at full length."""
    default_steps = DEFAULT_PROXY.budget.steps
    if default_steps is None or settings.steps >= default_steps:
        return ""
    base = next((p for p in report.baselines if p.baseline == baseline), None)
    above = [p.trial for p in report.front if base is not None and p.gps_ap > base.gps_ap]
    picks = f"{', '.join(above)} (above {baseline} at this proxy)" if above else "a pick"
    return (f"note: the demo's proxy is shortened to {settings.steps} steps (default {default_steps}); short proxies can "
            f"favour small networks that learn early, so check {picks} with `nas train ARCH --data {settings.data} "
            f"--budget-steps {default_steps}` against {baseline} before trusting {'them' if len(above) > 1 else 'it'}")


def _search_config(settings: DemoSettings, table: Path, data: Path) -> SearchConfig:
    """The configuration of a new demo run."""
    from nas.search.config import SearchConfig
    from nas.search.objective import Objective
    from nas.space.search_space import SearchSpace
    from nas.train.options import ProxyOptions, build_proxy_config

    space = settings.space or _space_of(table)
    options = ProxyOptions(budget_steps=settings.steps, val_images=settings.val_images, input_size=SearchSpace.from_yaml(space).proxy_input,
                           seed=settings.seed, device="cpu")
    proxy = build_proxy_config(options, DEFAULT_PROXY)
    return SearchConfig(space=str(Path(space).resolve()), table=str(table.resolve()), data=str(data.resolve()),
                        out=str(Path(settings.out).resolve()), trials=settings.trials, sampler="tpe", objective=Objective(min_gps_ap=settings.min_gps_ap),
                        baselines=DEMO_BASELINES, proxy=proxy, seed=settings.seed, address=settings.address)


def _search(config: SearchConfig | None, store: ResultsStore, settings: DemoSettings, echo: Callable[[str], None]) -> SearchSummary:
    """The demo's search: started from ``config``, or continued when ``store`` already holds it."""
    from nas.search.run import resume_search, run_search

    if config is None:
        echo(f"search: continuing the demo run in {store.root}")
        return resume_search(store.root, address=settings.address)
    return run_search(config)
