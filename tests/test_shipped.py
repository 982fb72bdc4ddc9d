"""Shipped files found from any working directory; file-system errors as one CLI line; the
shipped latency tables hold exactly the keys the code derives."""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path

import pytest

from nas.blocks import BLOCKS
from nas.shipped import DEFAULT_SPACE, DEFAULT_TABLE, recorded_space, shipped
from tests.conftest import REPO


def test_defaults_found_from_another_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert shipped(DEFAULT_SPACE) == REPO / DEFAULT_SPACE
    assert (shipped(DEFAULT_TABLE) / "meta.json").is_file()
    # The shipped table records its space relative to the repository it was profiled in.
    assert recorded_space(shipped(DEFAULT_TABLE), DEFAULT_SPACE) == REPO / DEFAULT_SPACE


def test_working_directory_wins_and_unknown_paths_stay_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    local = tmp_path / DEFAULT_SPACE
    local.parent.mkdir(parents=True)
    local.write_text("stages: []\n")
    assert shipped(DEFAULT_SPACE).resolve() == local.resolve()
    assert shipped("search_spaces/nope.yaml") == Path("search_spaces/nope.yaml")
    assert recorded_space(tmp_path, "search_spaces/nope.yaml") == Path("search_spaces/nope.yaml")


def test_os_errors_exit_2_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from nas.cli import main
    from nas.space import search_space

    def refuse(path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(search_space.SearchSpace, "from_yaml", staticmethod(refuse))
    code = main(["space", "show", str(REPO / DEFAULT_SPACE)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: Permission denied (") and DEFAULT_SPACE in err[0]


# -- the shipped tables still match the code that derives op keys ---------------------------
SHIPPED_TABLES = sorted(p.parent for p in (REPO / "latency_tables").glob("*/table.csv"))


@functools.lru_cache(maxsize=None)
def _profiled_keys(space_path: Path, baselines: tuple[str, ...], rois: int) -> frozenset[str]:
    """The keys ``nas profile`` enumerates for a space and its baselines (once per space)."""
    from nas.latency.profile import space_and_baseline_keys
    from nas.space.search_space import SearchSpace

    return frozenset(space_and_baseline_keys(SearchSpace.from_yaml(space_path), baselines, rois))


@pytest.mark.parametrize("table", SHIPPED_TABLES, ids=lambda p: p.name)
def test_shipped_table_keys_are_the_keys_the_code_derives(table: Path) -> None:
    """Every row of every shipped table is a key the code derives for the table's recorded
    space (and baselines), and every such key has its row: op keys stay byte-identical."""
    from nas.latency.opkinds import block_key, parse_block_key
    from nas.space.search_space import SearchSpace

    meta = json.loads((table / "meta.json").read_text())
    space_path = recorded_space(table, meta["space"]["path"])
    assert SearchSpace.from_yaml(space_path).hash == meta["space"]["hash"], "the table's space file changed"
    with (table / "table.csv").open() as handle:
        rows = [row["key"] for row in csv.DictReader(handle)]
    assert len(rows) == len(set(rows)) == meta["space"]["keys"]
    derived = _profiled_keys(space_path, tuple(meta["baselines"]), meta["rois"])
    assert sorted(set(rows) - derived) == [] and sorted(derived - set(rows)) == []
    # each block row also round-trips through the key parser and writer alone
    for key in (k for k in rows if k.split("-", 1)[0] in BLOCKS):
        block, in_shape, out_shape, stride, params = parse_block_key(key)
        assert block_key(block, in_shape, out_shape, stride, tuple(params.items())) == key


@pytest.mark.parametrize("table", SHIPPED_TABLES, ids=lambda p: p.name)
def test_shipped_tables_time_every_default_baseline_from_measured_rows(table: Path) -> None:
    """A search on a shipped table places every default baseline (fnl_mobile included)
    at the space's input, from rows measured on the table's device (none fitted)."""
    from dataclasses import replace

    from nas.latency.table import LatencyTable
    from nas.space.references import DENSEPOSE_BASELINES, reference

    loaded = LatencyTable.load(table)
    meta = json.loads((table / "meta.json").read_text())
    assert set(meta["baselines"]) == set(DENSEPOSE_BASELINES)
    for name in DENSEPOSE_BASELINES:
        arch = replace(reference(name), input_size=tuple(meta["space"]["deploy_input"]))
        prediction = loaded.predict(arch)
        assert prediction.sum_ms > 0 and prediction.fitted == frozenset()
