"""Checks a search's inputs before any Ray work: space, table, baselines, data."""

from __future__ import annotations

from dataclasses import dataclass, replace

from nas.data.check import check_dataset
from nas.data.source import DatasetSource
from nas.errors import MissingKeysError, SearchError, SpecError, TableError
from nas.latency.table import LatencyTable
from nas.search.config import SearchConfig
from nas.space.references import reference
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec

__all__ = ["Inputs", "load_inputs", "load_models", "check_table_space"]


@dataclass(frozen=True)
class Inputs:
    space: SearchSpace
    table: LatencyTable
    baselines: list[tuple[str, ArchSpec]]
    data: DatasetSource


def check_table_space(table: LatencyTable, space: SearchSpace, space_path: str) -> None:
    """The table must have been profiled for this space (same hash) or it cannot cover it."""
    try:
        table.check_space(space, space_path)
    except TableError as exc:
        raise SearchError(str(exc)) from None


def load_inputs(config: SearchConfig) -> Inputs:
    """Every input of the search, checked (the dataset whole: image files, sizes, masks,
    ids), before the first file of the run is written."""
    space, table, baselines = load_models(config)
    data = DatasetSource.load(config.data)
    check_dataset(data, surface=False)  # the trials read the surface; a real one is ~1.5 GB
    return Inputs(space, table, baselines, data)


def load_models(config: SearchConfig) -> tuple[SearchSpace, LatencyTable, list[tuple[str, ArchSpec]]]:
    """The space, the table (checked against the space) and the baselines (each covered by
    the table) of ``config``: what a search needs besides its data."""
    space = SearchSpace.from_yaml(config.space)
    try:
        table = LatencyTable.load(config.table)
    except TableError as exc:
        raise SearchError(f"--table: {exc}") from None
    check_table_space(table, space, config.space)
    check_supernet(config, space)
    baselines: list[tuple[str, ArchSpec]] = []
    for name in config.baselines:
        try:
            arch = reference(name)
        except SpecError as exc:  # names the known references
            raise SearchError(f"--baseline: {exc}") from None
        arch = replace(arch, input_size=space.deploy_input)  # every model deployed at the space's input size
        try:
            table.predict_ms(arch)
        except MissingKeysError as exc:
            raise SearchError(f"baseline {name}: {exc}") from None
        if config.supernet is not None:
            _require_scorable(name, arch, space, config.supernet)
        baselines.append((name, arch))
    return space, table, baselines


def check_supernet(config: SearchConfig, space: SearchSpace) -> None:
    """``--supernet`` must hold a readable supernet trained on the run's space."""
    if config.supernet is None:
        return
    from nas.errors import SupernetError
    from nas.supernet.store import load_supernet

    try:
        load_supernet(config.supernet, space)
    except SupernetError as exc:
        raise SearchError(f"--supernet: {exc}") from None


def _require_scorable(name: str, arch: ArchSpec, space: SearchSpace, supernet: str) -> None:
    """A baseline of a supernet-scored run is scored from the supernet too: it must be in its space."""
    from nas.errors import SupernetError
    from nas.supernet.membership import require_in_space

    try:
        require_in_space(space, arch)
    except SupernetError as exc:
        raise SearchError(f"baseline {name} cannot be scored from the supernet in {supernet}: {exc}; "
                          "drop it (--no-baselines) or compare it with a proxy-trained run") from None
