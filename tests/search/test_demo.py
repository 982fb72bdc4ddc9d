"""``nas demo`` end to end on the tiny space (existing data, synthetic table): search with
the light baselines, front printed, plots and export written; a second call continues."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from nas.cli import demo as demo_cli
from nas.runs.store import ResultsStore
from tests.search.conftest import TINY_SPACE


@pytest.mark.slow
def test_demo_command(tmp_path, tiny_dataset, tiny_table):
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    demo_cli.register(app)
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--data", str(tiny_dataset), "--table", str(tiny_table), "--space", str(TINY_SPACE),
            "--trials", "2", "--steps", "2", "--min-gps-ap", "0"]  # a 2-step proxy learns nothing: no floor
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = ResultsStore(out).rows()
    assert {"b-densemobile", "b-densesqueeze"} <= set(rows) and "b-r50_fpn" not in rows
    assert sum(r.kind == "search" and r.counts for r in rows.values()) == 2
    assert "vs densemobile:" in result.output and "GPS AP" in result.output
    assert "shortened to 2 steps (default 150)" in result.output  # the caveat of a short proxy
    assert (out / "pareto.png").is_file() and (out / "pareto.html").is_file()
    assert list((out / "export").glob("*/model_fp32.pte"))
    again = CliRunner().invoke(app, args)  # complete: continues with nothing left to run, reprints
    assert again.exit_code == 0, again.output
    assert "0 of 2 trial(s) to run" in again.output and len(ResultsStore(out).rows()) == len(rows)


def test_demo_missing_table(tmp_path):
    from nas.errors import SearchError
    from nas.demo import DemoSettings, run_demo

    with pytest.raises(SearchError, match="latency table .* is missing"):
        run_demo(DemoSettings(table=str(tmp_path / "none"), data=str(tmp_path / "d"), out=str(tmp_path / "o")))


def test_demo_out_that_is_a_file_is_refused_before_rendering(tmp_path, tiny_table):
    from nas.errors import SearchError
    from nas.demo import DemoSettings, run_demo

    (tmp_path / "o").write_text("kept")
    with pytest.raises(SearchError, match="--out .*o is a file; the demo's run is a folder"):
        run_demo(DemoSettings(table=str(tiny_table), data=str(tmp_path / "d"), out=str(tmp_path / "o")))
    assert not (tmp_path / "d").exists() and (tmp_path / "o").read_text() == "kept"


def test_ctrl_c_in_the_demo_says_to_run_it_again(tmp_path, tiny_dataset, tiny_table, monkeypatch):
    from nas.errors import Interrupted
    from nas import demo
    from nas.demo import DemoSettings, run_demo

    def stopped(*args, **kwargs):
        raise Interrupted("the search stopped at 3 of 10 trial(s); continue it with `nas search --out R --resume`")

    monkeypatch.setattr(demo, "_search", stopped)
    with pytest.raises(Interrupted, match=r"stopped at 3 of 10 trial\(s\); .*--resume`, or run the same `nas demo` again$"):
        run_demo(DemoSettings(table=str(tiny_table), data=str(tiny_dataset), out=str(tmp_path / "o")), echo=lambda line: None)


def test_the_short_proxy_note_names_this_runs_front_trials_above_densemobile():
    from nas.demo import DemoSettings, _short_proxy_note
    from nas.pareto.analysis import ParetoReport, Point

    def point(trial: str, ap: float, baseline: str = "") -> Point:
        return Point(trial, "baseline" if baseline else "search", baseline, "a", "id", ap, ap, 1.0, 1, 1, 1.0)

    def report(*front: Point) -> ParetoReport:
        return ParetoReport("run", "latency", "ms", list(front), list(front), [point("b-densemobile", 5.0, "densemobile")],
                            0.0, (0.0, 1.0))

    short = DemoSettings(steps=100, data="d")
    note = _short_proxy_note(report(point("t0001", 4.0), point("t0007", 7.5), point("t0003", 6.0)), short)
    assert note.startswith("note: the demo's proxy is shortened to 100 steps (default 150)")
    assert "check t0007, t0003 (above densemobile at this proxy) with `nas train ARCH --data d --budget-steps 150`" in note
    assert note.endswith("before trusting them")
    one = _short_proxy_note(report(point("t0007", 7.5)), short)
    assert "check t0007 (above densemobile at this proxy)" in one and one.endswith("trusting it")
    assert "check a pick with" in _short_proxy_note(report(point("t0001", 4.0)), short)
    assert _short_proxy_note(report(point("t0007", 7.5)), DemoSettings(steps=150)) == ""


def test_the_demo_renders_no_data_for_a_descriptor(tmp_path, tiny_table):
    from nas.demo import DemoSettings, run_demo
    from nas.errors import DataError

    missing = tmp_path / "coco.yaml"
    with pytest.raises(DataError, match=f"dataset descriptor {missing} does not exist; give an existing descriptor"):
        run_demo(DemoSettings(table=str(tiny_table), data=str(missing), out=str(tmp_path / "o")))
    assert list(tmp_path.iterdir()) == []  # no folder named like the descriptor rendered, no run
    # an existing descriptor goes to the search as it is, which checks what it names
    missing.write_text("train: {annotations: a.json, images: imgs}\nval: {annotations: b.json, images: imgs}\nsurface: s.npz\n")
    with pytest.raises(DataError, match=r"coco\.yaml: train\.annotations .*a\.json does not exist"):
        run_demo(DemoSettings(table=str(tiny_table), data=str(missing), out=str(tmp_path / "o")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coco.yaml"]


@pytest.mark.parametrize("problem", ["space file missing", "space not the table's", "unknown baseline"])
def test_space_and_table_are_checked_before_the_data_is_rendered(tmp_path, tiny_table, problem, monkeypatch):
    """The demo rendered 400 images (30-40 s) before saying any of these (issue 39)."""
    from nas.demo import DemoSettings, run_demo
    from nas.errors import NasError

    space = {"space file missing": str(tmp_path / "none.yaml"),
             "space not the table's": "search_spaces/densepose_mobile.yaml", "unknown baseline": None}[problem]
    if problem == "unknown baseline":
        monkeypatch.setattr("nas.demo.DEMO_BASELINES", ("densemobile", "no_such_net"))
    with pytest.raises(NasError) as caught:
        run_demo(DemoSettings(table=str(tiny_table), data=str(tmp_path / "d"), out=str(tmp_path / "o"), space=space))
    assert {"space file missing": "none.yaml does not exist", "space not the table's": "densepose_mobile",
            "unknown baseline": "no_such_net"}[problem] in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # nothing rendered, no run folder


def test_the_demo_floor_is_the_search_default() -> None:
    from nas.demo import DemoSettings
    from nas.search.objective import DEFAULT_MIN_GPS_AP

    assert DemoSettings().min_gps_ap == DEFAULT_MIN_GPS_AP
