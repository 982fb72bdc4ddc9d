"""``nas eval``: human table, --json, default surface, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from nas.errors import EvalError, NasError
from nas.eval import ground_truth_results, load_ground_truth, metric_keys, save_densepose_results
from nas.cli.eval import register


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("other")  # a second command keeps typer from collapsing the app into `eval`
    def other() -> None:
        pass

    return app


@pytest.fixture()
def perfect(synth, tmp_path: Path) -> Path:
    path = tmp_path / "results.json"
    save_densepose_results(path, ground_truth_results(load_ground_truth(synth.train_json)))
    return path


def test_json_output(synth, perfect: Path) -> None:
    r = CliRunner().invoke(_app(), ["eval", "--gt", str(synth.train_json), "--pred", str(perfect), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert set(metric_keys()) <= set(out) and out["gps_ap"] == pytest.approx(1.0)
    assert out["eval_seconds"] >= 0


def test_table_output_and_explicit_surface(synth, perfect: Path) -> None:
    args = ["eval", "--gt", str(synth.train_json), "--pred", str(perfect), "--surface", str(synth.surface),
            "--modes", "gps,iou"]
    r = CliRunner().invoke(_app(), args)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[1].split() == ["GPS", "IOU"]
    assert lines[2].startswith("Average Precision (AP) @[ thr=0.50:0.95 | area=   all | maxDets=20 ]")
    assert lines[2].split()[-2:] == ["1.000", "1.000"]


def test_errors_are_nas_errors(synth, perfect: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(_app(), ["eval", "--gt", str(synth.train_json), "--pred", str(tmp_path / "none.json")])
    assert isinstance(r.exception, EvalError) and "not found" in str(r.exception)
    # A missing --gt is named as such, not as a missing surface beside it.
    r = runner.invoke(_app(), ["eval", "--gt", str(tmp_path / "gt.json"), "--pred", str(perfect)])
    assert isinstance(r.exception, EvalError) and str(r.exception).startswith("--gt ")
    r = runner.invoke(_app(), ["eval", "--gt", str(tmp_path), "--pred", str(perfect)])
    assert isinstance(r.exception, EvalError) and str(r.exception) == f"--gt {tmp_path} is a folder; give the path of a JSON file in it"
    lonely = tmp_path / "ann.json"
    lonely.write_text(synth.train_json.read_text())
    r = runner.invoke(_app(), ["eval", "--gt", str(lonely), "--pred", str(perfect)])
    assert isinstance(r.exception, EvalError) and "--surface" in str(r.exception)
    r = runner.invoke(_app(), ["eval", "--gt", str(synth.train_json), "--pred", str(perfect), "--wrong-part", "x"])
    assert isinstance(r.exception, NasError)


def test_main_prints_one_line_and_exits_2(synth, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import nas.cli

    if "eval" not in {name for name, _ in nas.cli._GROUPS}:
        pytest.skip("`nas eval` is not mounted in nas.cli yet")
    code = nas.cli.main(["eval", "--gt", str(synth.train_json), "--pred", str(tmp_path / "none.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: --pred ")


def test_project_options_are_flags_and_named_in_the_header(synth, perfect: Path) -> None:
    base = ["eval", "--gt", str(synth.train_json), "--pred", str(perfect), "--modes", "gps"]
    runner = CliRunner()
    r = runner.invoke(_app(), base)
    assert r.exit_code == 0, r.output
    assert "official rules)" in r.output.splitlines()[0]
    flags = ["--wrong-part", "zero", "--placement", "frame256", "--masks", "nearest", "--ignore-rule", "per-threshold"]
    r = runner.invoke(_app(), base + flags + ["--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["gps_ap"] == pytest.approx(1.0)  # the tiny set's perfect file scores 1 either way
    r = runner.invoke(_app(), base + ["--placement", "frame256"])
    assert "official rules except --placement frame256" in r.output.splitlines()[0]
    r = runner.invoke(_app(), base + ["--ignore-rule", "never"])
    assert isinstance(r.exception, EvalError)
    assert str(r.exception) == "--ignore-rule must be one of official, per-threshold (first: official), got 'never'"
