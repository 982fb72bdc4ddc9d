"""Pareto analysis of a hand-made run: only finished search trials are placed, baselines
are marked, the hypervolume matches a hand computation; the command writes both plots."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from nas.cli import pareto as pareto_cli
from nas.errors import ResultsError
from nas.pareto import analyse
from nas.runs.rows import TrialRow
from nas.runs.store import ResultsStore


def _row(trial: str, status: str, ap: float, ms: float, baseline: str = "") -> TrialRow:
    return TrialRow(trial=trial, number=-1 if baseline else int(trial[1:]), kind="baseline" if baseline else "search", baseline=baseline,
                    arch=f"arch-{trial}", arch_id=trial, status=status, gps_ap=ap, gpsm_ap=ap + 1, latency_ms=ms,
                    params=int(ms * 1000), macs=int(ms * 1e6))


@pytest.fixture()
def run(tmp_path):
    store = ResultsStore(tmp_path / "run")
    store.save_config({"format": "nas-search-run", "max_latency_ms": None, "table": str(tmp_path / "no-table")})
    for row in [
        _row("t0000", "finished", 10.0, 5.0),
        _row("t0001", "finished", 12.0, 8.0),
        _row("t0002", "finished", 9.0, 6.0),     # dominated by t0000
        _row("t0003", "stopped", 50.0, 1.0),     # would dominate everything: partial metrics, never placed
        _row("t0004", "rejected", 0.0, 0.5),     # never trained
        _row("t0005", "failed", 99.0, 0.1),
        _row("b-densemobile", "finished", 11.0, 9.0, "densemobile"),   # beaten by t0001 (12 AP at 8 ms)
        _row("b-r50_fpn", "finished", 30.0, 40.0, "r50_fpn"),          # not beaten
    ]:
        store.put(row)
    return tmp_path / "run"


def test_front_excludes_unfinished_and_marks_baselines(run):
    report = analyse(run, ref_cost=10.0)
    assert [p.trial for p in report.front] == ["t0000", "t0001"]
    assert report.excluded == {"stopped": 1, "rejected": 1, "failed": 1}
    marks = {p.baseline: p.dominated_by_front for p in report.baselines}
    assert marks == {"densemobile": True, "r50_fpn": False}
    # by hand at reference (0 AP, 10 ms): 10 x (10 - 5) + (12 - 10) x (10 - 8) = 54
    assert report.hypervolume == pytest.approx(54.0)
    default = analyse(run)  # default reference: 1.1 x the costliest point shown (r50_fpn, 40 ms)
    assert default.reference[1] == pytest.approx(44.0)
    by_params = analyse(run, axis="params")
    assert [p.trial for p in by_params.front] == ["t0000", "t0001"] and by_params.front[0].cost == pytest.approx(0.005)


def test_trials_on_several_nodes_are_named(run):
    from dataclasses import replace

    from nas.pareto import front_lines

    assert analyse(run).nodes == [] and not any("trained on" in line for line in front_lines(analyse(run)))
    store = ResultsStore(run)
    rows = store.rows()
    store.put_many([replace(rows["t0000"], node="10.0.0.1/aa"), replace(rows["t0001"], node="10.0.0.2/bb"),
                    replace(rows["t0003"], node="10.0.0.3/cc")])  # a stopped trial: not counted
    report = analyse(run)
    assert report.nodes == ["10.0.0.1/aa", "10.0.0.2/bb"] and report.to_dict()["nodes"] == report.nodes
    assert "trained on 2 nodes (10.0.0.1/aa, 10.0.0.2/bb): nodes of other CPU models" in front_lines(report)[-1]


def test_pareto_command(run):
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    pareto_cli.register(app)
    result = CliRunner().invoke(app, ["pareto", str(run), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [p["trial"] for p in data["front"]] == ["t0000", "t0001"] and data["front"][0]["arch"] == "arch-t0000"
    assert (run / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (run / "pareto.html").read_text()
    assert "<svg" in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")  # self-contained
    assert "densemobile" in page and "arch-t0001" in page
    table = CliRunner().invoke(app, ["pareto", str(run)])
    assert table.exit_code == 0 and "densemobile (baseline, beaten)" in table.output and "not placed" in table.output


def test_errors(tmp_path, run):
    with pytest.raises(ResultsError, match="no config.json"):
        analyse(tmp_path / "nothing")
    (tmp_path / "trials.csv").write_text("trial_id\n")
    with pytest.raises(ResultsError, match=r"trials.csv is a file, not a search run folder; give the folder a search wrote"):
        analyse(tmp_path / "trials.csv")
    with pytest.raises(ResultsError, match="unknown axis"):
        analyse(run, axis="energy")
    for ref in (float("nan"), -5.0, 0.0, float("inf")):  # a NaN reference printed hypervolume 0
        with pytest.raises(ResultsError, match="--ref must be a positive, finite cost"):
            analyse(run, ref_cost=ref)


def test_neighbouring_baseline_labels_do_not_overlap(run, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nas.pareto.plot import LABEL_STEP_PT, _label_baselines

    store = ResultsStore(run)
    store.put(_row("b-densesqueeze", "finished", 11.2, 9.3, "densesqueeze"))  # next to densemobile (11 AP, 9 ms)
    report = analyse(run)
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    ax.scatter([p.cost for p in report.points + report.baselines], [p.gps_ap for p in report.points + report.baselines])
    _label_baselines(ax, report)
    offsets = {t.get_text().split()[0]: t.xyann[1] for t in ax.texts}
    plt.close(fig)
    assert set(offsets) == {"densemobile", "densesqueeze", "r50_fpn"}
    assert offsets["r50_fpn"] == 6.0  # alone: the usual place, up and to the right
    # densesqueeze (higher AP) keeps the usual place; densemobile's label moves down a line
    assert offsets["densesqueeze"] == 6.0 and offsets["densemobile"] <= 6.0 - LABEL_STEP_PT + 1.0
