"""Checks a search's inputs before any Ray work: space, table, baselines, data."""

from __future__ import annotations

from dataclasses import dataclass, replace

from nas.data.source import DatasetSource
from nas.errors import MissingKeysError, SearchError, SpecError, TableError
from nas.latency.table import LatencyTable
from nas.search.config import SearchConfig
from nas.space.references import reference
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec

__all__ = ["Inputs", "load_inputs", "check_table_space"]


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
    space = SearchSpace.from_yaml(config.space)
    try:
        table = LatencyTable.load(config.table)
    except TableError as exc:
        raise SearchError(f"--table: {exc}") from None
    check_table_space(table, space, config.space)
    data = DatasetSource.load(config.data)
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
        baselines.append((name, arch))
    return Inputs(space, table, baselines, data)
