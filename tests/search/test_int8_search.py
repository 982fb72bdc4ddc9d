"""A search on an int8 latency table: its trials, front, plots and model cards say the
latencies are int8, and its export writes the int8 program (an fp32-only one is refused)."""

from __future__ import annotations

import json

import pytest

from nas.errors import ExportError
from nas.latency.synthetic import write_synthetic_table
from nas.runs.store import ResultsStore
from nas.search import run_search
from nas.search.cluster import disconnect
from nas.search.objective import Objective
from tests.search.conftest import TINY_SPACE, tiny_config


@pytest.fixture(scope="module")
def int8_run(tmp_path_factory, tiny_dataset):
    root = tmp_path_factory.mktemp("int8")
    table = write_synthetic_table(root / "table", TINY_SPACE, baselines=(), dtype="int8")
    out = root / "run"
    try:
        # no learned floor: a 2-step proxy scores about 0 AP, and only front trials are exported
        run_search(tiny_config(out, tiny_dataset, table, trials=2, objective=Objective(min_gps_ap=0.0)))
    finally:
        disconnect()
    return out


@pytest.mark.slow
def test_trials_front_and_plots_say_int8(int8_run, tmp_path) -> None:
    from nas.pareto import analyse
    from nas.pareto import plot_html

    rows = list(ResultsStore(int8_run).rows().values())
    assert rows and {r.latency_dtype for r in rows} == {"int8"}
    header = (int8_run / "trials.csv").read_text().splitlines()[0].split(",")
    assert header[header.index("latency_ms") + 1] == "latency_dtype"
    report = analyse(int8_run)
    assert report.cost_label == "int8 latency (ms)" and report.latency_dtype == "int8"
    assert report.device == "synthetic (synthetic, 1 thread(s), int8)"
    assert report.to_dict()["latency_dtype"] == "int8" and report.to_dict()["cost"] == "int8 latency (ms)"
    page = plot_html(report, tmp_path / "front.html").read_text()
    assert "GPS AP vs int8 latency (ms)" in page


@pytest.mark.slow
def test_export_of_an_int8_run_writes_int8_and_refuses_fp32_only(int8_run, tmp_path, tiny_dataset) -> None:
    from nas.export import export_run

    with pytest.raises(ExportError, match=r"ranked its architectures by int8 latency \(table .*\), but this export writes only fp32 "
                                          r"programs, whose latency the front was not chosen by; export with --int8"):
        export_run(int8_run, tmp_path / "fp32-only", top=1, dtypes=("fp32",), log=lambda m: None)
    assert not (tmp_path / "fp32-only").exists()
    (exported,) = export_run(int8_run, tmp_path / "export", top=1, log=lambda m: None)  # the default follows the table
    assert exported.files[:4] == ["arch.json", "model.pt", "model_fp32.pte", "model_int8.pte"]
    card = (exported.folder / "MODEL_CARD.md").read_text()
    assert "| Predicted int8 latency |" in card and "thread(s), int8" in card
    assert "calibrated on 8 training images" in card
    index = json.loads((tmp_path / "export" / "index.json").read_text())
    assert "model_int8.pte" in index["exported"][0]["files"]
