"""A real local Ray Tune search of a few tiny trials: latency rejection, ASHA early
stopping, what Optuna is told, the results folder, and input errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import optuna
import pytest
import torch
from optuna.trial import TrialState

from nas.errors import NasError, SearchError
from nas.runs.front import front_trials
from nas.runs.store import ResultsStore, journal_storage
from nas.search import run_search
from nas.search.cluster import disconnect
from nas.search.searcher import STUDY_NAME
from tests.search.conftest import TINY_PROXY, tiny_config

MAX_MS = 2.8  # rejects part of the tiny space (its models, heads included, take about 1.9 to 3.1 ms on the synthetic table)


@pytest.fixture(scope="module")
def asha_run(tmp_path_factory, tiny_dataset, tiny_table):
    from dataclasses import replace

    out = tmp_path_factory.mktemp("search") / "run"
    config = tiny_config(out, tiny_dataset, tiny_table, trials=5, asha=True, max_latency_ms=MAX_MS,
                         proxy=replace(TINY_PROXY, evals=2), sampler="tpe", seed=0)
    try:
        summary = run_search(config)
    finally:
        disconnect()
    return out, summary


@pytest.mark.slow
def test_local_search_rows_and_study(asha_run):
    out, summary = asha_run
    store = ResultsStore(out)
    rows = list(store.rows().values())
    counted = [r for r in rows if r.counts]
    assert len(counted) == 5 == summary.done and summary.failed == 0
    assert len({r.trial for r in rows}) == len(rows)
    study = optuna.load_study(study_name=STUDY_NAME, storage=journal_storage(store))
    by_number = {t.number: t for t in study.trials}
    assert all(t.state != TrialState.RUNNING for t in study.trials)
    for row in rows:
        trial = by_number[row.number]
        if row.status == "finished":
            assert trial.state == TrialState.COMPLETE and trial.values == pytest.approx([row.gps_ap, row.latency_ms])
            assert row.progress == 1.0 and row.steps == TINY_PROXY.budget.steps and row.params > 0 and row.macs > 0
            assert row.node and row.attempts == 1 and row.wall_seconds > 0
        elif row.status == "stopped":  # ASHA's partial result never reaches Optuna as COMPLETE
            assert trial.state == TrialState.PRUNED and row.progress < 1.0 and row.steps == 1
        elif row.status == "rejected":  # never trained, but the sampler sees the violated constraint
            assert row.latency_ms > MAX_MS and row.steps == 0 and not store.trial_dir(row.trial).exists()
            assert trial.state == TrialState.COMPLETE and trial.constraints["max_latency_ms"] > 0
        else:
            pytest.fail(f"unexpected status {row.status}")
    statuses = {r.status for r in rows}
    assert {"finished", "stopped", "rejected"} <= statuses, statuses


@pytest.mark.slow
def test_front_and_weights_only_from_finished(asha_run):
    out, _ = asha_run
    store = ResultsStore(out)
    rows = list(store.rows().values())
    front = front_trials(rows)
    assert front and all(store.get(t).status == "finished" for t in front)
    for row in rows:
        weights = store.trial_dir(row.trial) / "model.pt"
        assert weights.is_file() == (row.trial in front), row.trial
        if row.status in ("finished", "stopped"):
            assert "attempt 1" in (store.trial_dir(row.trial) / "log.txt").read_text()
    saved = torch.load(store.trial_dir(sorted(front)[0]) / "model.pt", weights_only=True)
    assert saved["arch"] == store.get(sorted(front)[0]).arch and saved["state_dict"]
    config = json.loads((out / "config.json").read_text())
    assert config["max_latency_ms"] == MAX_MS and config["asha"] is True
    assert (out / "trials.csv").read_text().count("\n") == len(rows) + 1


def test_input_errors(tmp_path, tiny_dataset, tiny_table):
    with pytest.raises(SearchError, match="unknown sampler 'annealing'; known: tpe, nsga2, random"):
        tiny_config(tmp_path / "a", tiny_dataset, tiny_table, sampler="annealing")
    from nas.search import Objective

    for target in (None, float("inf"), float("nan")):
        with pytest.raises(SearchError, match="needs a positive, finite --target-ms"):
            Objective(kind="reward", target_ms=target)
    for resources in ({"cpus_per_trial": float("nan")}, {"gpus_per_trial": float("nan")}, {"gpus_per_trial": -1.0}):
        with pytest.raises(SearchError, match="both finite"):
            tiny_config(tmp_path / "r", tiny_dataset, tiny_table, **resources)
    with pytest.raises(SearchError, match="--max-latency-ms must be positive and finite, got inf"):
        tiny_config(tmp_path / "m", tiny_dataset, tiny_table, max_latency_ms=float("inf"))
    bad = tmp_path / "bad_table"
    bad.mkdir()
    (bad / "meta.json").write_text("{not json")
    (bad / "table.csv").write_text("")
    with pytest.raises(SearchError, match="corrupt"):
        run_search(tiny_config(tmp_path / "b", tiny_dataset, bad))
    from tests.conftest import DEFAULT_SPACE

    with pytest.raises(SearchError, match=r"was profiled for tiny \("):
        run_search(tiny_config(tmp_path / "c", tiny_dataset, tiny_table, space=str(DEFAULT_SPACE)))
    with pytest.raises(SearchError, match="cannot reach the Ray cluster at 127.0.0.1:9"):
        run_search(tiny_config(tmp_path / "d", tiny_dataset, tiny_table, address="127.0.0.1:9"))
    with pytest.raises(SearchError, match="unknown architecture name 'mobilenet_v9'"):
        run_search(tiny_config(tmp_path / "e", tiny_dataset, tiny_table, baselines=("mobilenet_v9",)))
    with pytest.raises(NasError, match=r"dataset .*nodata does not exist; give a dataset folder .* or a descriptor YAML"):
        run_search(tiny_config(tmp_path / "f", tmp_path / "nodata", tiny_table))
    (tmp_path / "empty").mkdir()
    with pytest.raises(NasError, match="dataset folder .*empty lacks"):
        run_search(tiny_config(tmp_path / "f", tmp_path / "empty", tiny_table))
    assert not (tmp_path / "f").exists()  # refused before the run folder is made
    (tmp_path / "g").write_text("kept")
    with pytest.raises(SearchError, match=r"--out .*g is a file; a search run is a folder"):
        run_search(tiny_config(tmp_path / "g", tiny_dataset, tiny_table))
    assert (tmp_path / "g").read_text() == "kept"


def test_table_missing_baseline_keys(tmp_path, tiny_dataset):
    from nas.latency.synthetic import write_synthetic_table
    from tests.search.conftest import TINY_SPACE

    table = write_synthetic_table(tmp_path / "t", TINY_SPACE, baselines=())
    with pytest.raises(SearchError, match="baseline densemobile: latency table .* lacks"):
        run_search(tiny_config(tmp_path / "run", tiny_dataset, table, baselines=("densemobile",)))


@pytest.mark.slow
def test_export_front(asha_run, tmp_path):
    from nas.export import deployable, export_run, run_pte
    from nas.space.spec import ArchSpec

    out, _ = asha_run
    exported = export_run(out, tmp_path / "export", top=1, log=lambda message: None)
    assert len(exported) == 1
    folder = exported[0].folder
    assert sorted(p.name for p in folder.iterdir()) == ["MODEL_CARD.md", "arch.json", "model.pt", "model_fp32.pte"]
    arch = ArchSpec.from_json((folder / "arch.json").read_text())
    row = ResultsStore(out).get(exported[0].trial)
    assert arch.to_string() == row.arch
    saved = torch.load(folder / "model.pt", weights_only=True)
    module, inputs = deployable(arch, saved["state_dict"])
    with torch.no_grad():
        eager = module(*inputs)
    program = run_pte(folder / "model_fp32.pte", inputs)
    assert len(program) == len(eager)
    for a, b in zip(program, eager):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-4 * float(b.abs().max()) + 1e-6)
    card = (folder / "MODEL_CARD.md").read_text()
    assert f"{row.latency_ms:.2f} ms" in card and row.arch in card and "nas train" in card
    index = json.loads((tmp_path / "export" / "index.json").read_text())
    assert index["exported"][0]["trial"] == row.trial
    # paths relative to the export folder (index) and to the run folder (card), none of this machine's
    assert (tmp_path / "export" / index["run"]).resolve() == out.resolve() and not Path(index["run"]).is_absolute()
    assert str(out.parent.parent) not in card
    _failed_export_leaves_no_partial_folder(out, tmp_path / "export", folder)
    _damaged_weights_are_refused_before_any_write(out, tmp_path, row.trial)


def _damaged_weights_are_refused_before_any_write(run, tmp_path, trial) -> None:
    """An empty model.pt (a copy cut short) was an EOFError, which click reports as "aborted"."""
    import shutil

    from nas.errors import ExportError
    from nas.export import export_run
    from nas.runs.store import ResultsStore

    copy = tmp_path / "copied-run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("ray"))
    (ResultsStore(copy).trial_dir(trial) / "model.pt").write_bytes(b"")
    with pytest.raises(ExportError, match=rf"cannot read .*{trial}/model.pt \(EOFError.*weights of trial {trial} are damaged"):
        export_run(copy, tmp_path / "export-damaged", top=1, log=lambda message: None)
    assert not (tmp_path / "export-damaged").exists()


def _failed_export_leaves_no_partial_folder(run, out, done_folder) -> None:
    """A lowering that fails: no half-filled folder, and an earlier export stays whole."""
    from nas.errors import ExportError
    from nas.export import bundle, export_run

    before = {p.name: p.read_bytes() for p in done_folder.iterdir()}

    def lowering_fails(*args, **kwargs):
        raise ExportError("XNNPACK refused the graph")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bundle, "lower", lowering_fails)
        with pytest.raises(ExportError, match="XNNPACK refused"):
            export_run(run, out, top=1, log=lambda message: None)
    assert sorted(p.name for p in out.iterdir()) == [done_folder.name, "index.json"]  # no .partial left
    assert {p.name: p.read_bytes() for p in done_folder.iterdir()} == before


@pytest.mark.slow
def test_export_int8_calibrated_on_the_run_data(asha_run, tmp_path, tiny_dataset):
    from nas.errors import ExportError
    from nas.export import export_run, run_pte
    from nas.export.calibration import calibration_inputs

    out, _ = asha_run
    with pytest.raises(ExportError, match="int8 calibration images: dataset folder .* lacks .*pass --calibration-data DATA"):
        export_run(out, tmp_path / "bad", top=1, dtypes=("fp32", "int8"), log=lambda m: None, calibration_data=tmp_path)
    assert not (tmp_path / "bad").exists()  # nothing written before the calibration images are found
    (exported,) = export_run(out, tmp_path / "export", top=1, dtypes=("fp32", "int8"), log=lambda m: None)
    assert "model_int8.pte" in exported.files
    card = (exported.folder / "MODEL_CARD.md").read_text()
    assert f"calibrated on 8 training images of `{tiny_dataset}`; on 2 of its validation images" in card  # the run's own data
    stated = float(re.search(r"by a median ([0-9.]+)% \(relative L1", card).group(1))
    arch = _arch_of(exported.folder)
    (image,) = calibration_inputs(tiny_dataset, arch.input_size, count=1, seed=5)
    fp32 = run_pte(exported.folder / "model_fp32.pte", image)
    int8 = run_pte(exported.folder / "model_int8.pte", image)
    for a, b in zip(int8, fp32):  # on a real image the quantized features stay close to fp32
        assert float((a - b).abs().mean()) < 0.05 * float(b.abs().max())
    assert 0 < stated < 30  # the card's figure: int8 really differs, and not wildly


def _arch_of(folder):
    from nas.space.spec import ArchSpec

    return ArchSpec.from_json((folder / "arch.json").read_text())
