"""Fractional GPU packing (issue 36): ``nas search --gpus-per-trial 0.25`` runs four trials
on one GPU at once.

The end-to-end tests declare one GPU to a Ray head started on 127.0.0.1 (``ray start
--num-gpus 1 --num-cpus 4``), on a machine that need not have one: Ray grants each trial
its share and sets ``CUDA_VISIBLE_DEVICES`` to the GPU's id, and the trial, finding no CUDA
device torch can use, trains on CPU. When trials ran is read from their logs."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import torch

from nas.errors import SearchError
from nas.runs.store import ResultsStore
from nas.search import run_search
from nas.search.cluster import disconnect
from nas.search.local_cluster import local_cluster, pids_with
from nas.search.resources import check_trial_device, packing, trial_device
from tests.search.conftest import TINY_PROXY, TINY_SPACE, tiny_config
from tests.search.procs import REPO_ENV, driver

# Proxy steps of a trial: its training must outlast the skew between the trials' starts
# (their workers start together, each importing torch: 5-9 s apart on 2 busy cores), or
# four packed trials would not be seen running together. Steps slow down with the load
# just as the imports do.
STEPS = 16
# what a trial on the declared GPU trains on: the GPU where torch can drive one
EXPECTED_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def test_trials_at_once():
    one_gpu = packing([{"CPU": 4, "GPU": 1}], cpus_per_trial=1, gpus_per_trial=0.25)
    assert (one_gpu.at_once, one_gpu.by_gpus, one_gpu.fill_cpus) == (4, 4, None)
    assert one_gpu.note() == "resources: 4 trial(s) at once on 1 node(s) (4 CPU, 1 GPU; a trial takes 1 CPU and 0.25 GPU)"
    assert packing([{"CPU": 4, "GPU": 1}], 1, 0.5).at_once == 2  # the GPU limits it
    assert packing([{"CPU": 16, "GPU": 1}], 1, 0.3).at_once == 3  # 1 / 0.3 is 3 trials, not 3.33
    # CPU-bound: two cores hold two 1-CPU trials, whatever the GPU could take
    cpu_bound = packing([{"CPU": 2, "GPU": 1}], cpus_per_trial=1, gpus_per_trial=0.25)
    assert (cpu_bound.at_once, cpu_bound.by_gpus, cpu_bound.fill_cpus) == (2, 4, 0.5)
    assert cpu_bound.note().endswith("; the CPUs limit it: the GPUs would hold 4, --cpus-per-trial 0.5 would fill them")
    # per node: the CPU-only node holds no GPU trial, its CPUs do not count
    mixed = packing([{"CPU": 16, "GPU": 2}, {"CPU": 8, "GPU": 0}], cpus_per_trial=2, gpus_per_trial=0.25)
    assert (mixed.at_once, mixed.by_gpus, mixed.nodes, mixed.cpus, mixed.gpus) == (8, 8, 2, 24, 2)
    unused = packing([{"CPU": 16, "GPU": 1}], cpus_per_trial=1, gpus_per_trial=0)
    assert unused.at_once == 16 and unused.by_gpus is None and "the GPUs stay unused" in unused.note()
    assert packing([{"CPU": 2, "GPU": 0}], 1, 0.25).at_once == 0


def test_trial_device():
    assert trial_device("auto", [0], cuda_available=True) == ("cuda", "Ray granted GPU 0")
    assert trial_device("auto", [0], cuda_available=False) == ("cpu", "Ray granted GPU 0 but torch cannot use CUDA here")
    # no share granted: the node's GPUs are not the trial's, even where torch sees them
    assert trial_device("auto", [], cuda_available=True) == ("cpu", "Ray granted no GPU")
    assert trial_device("cuda", [1], cuda_available=True) == ("cuda", "asked for; Ray granted GPU 1")
    assert trial_device("cpu", [], cuda_available=True)[0] == "cpu"


def test_device_contradicting_the_gpu_share_is_refused(tmp_path, tiny_dataset, tiny_table):
    check_trial_device("auto", 0.25)
    check_trial_device("cuda", 1)
    with pytest.raises(SearchError, match=r"--device cuda needs --gpus-per-trial > 0: Ray gives a trial a GPU only when"):
        check_trial_device("cuda", 0)
    with pytest.raises(SearchError, match=r"--device cpu with --gpus-per-trial 0.25: the trials would hold GPU shares they never use"):
        run_search(tiny_config(tmp_path / "run", tiny_dataset, tiny_table, gpus_per_trial=0.25))  # TINY_PROXY trains on cpu
    assert not (tmp_path / "run").exists()  # refused before the run folder is made


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine whose local Ray instance sees no GPU")
def test_local_instance_without_the_gpu_is_an_error(tmp_path, tiny_dataset, tiny_table):
    config = tiny_config(tmp_path / "run", tiny_dataset, tiny_table, trials=1, gpus_per_trial=1.0, proxy=replace(TINY_PROXY, device="auto"))
    try:
        with pytest.raises(SearchError, match=r"this machine's Ray instance \(\d+ CPU, 0 GPU\) cannot hold one trial of 1 CPU and "
                                              r"1 GPU; continue the run with `nas search --out .*run --resume`"):
            run_search(config)  # Tune would have waited for a GPU forever
    finally:
        disconnect()


@pytest.fixture(scope="module")
def one_gpu_node():
    with local_cluster(workers=0, cpus_per_node=4, gpus_per_node=1, env=REPO_ENV) as started:
        yield started
    assert not pids_with(started.tmp)


def _search(cluster, tmp_path: Path, tiny_dataset: Path, tiny_table: Path, trials: int, gpus_per_trial: float) -> tuple[Path, int, str]:
    """Run ``nas search`` on the cluster; returns the run folder, the most trials seen running
    at once while it ran, and the driver's output."""
    out, log = tmp_path / "run", tmp_path / "driver.log"
    args = ["--out", str(out), "--space", str(TINY_SPACE), "--table", str(tiny_table), "--data", str(tiny_dataset),
            "--trials", str(trials), "--no-baselines", "--budget-steps", str(STEPS), "--batch-size", "2", "--evals", "1",
            "--val-images", "2", "--proxy-input", "128", "96", "--device", "auto", "--address", cluster.address,
            "--cpus-per-trial", "1", "--gpus-per-trial", str(gpus_per_trial)]
    run = driver(args, cluster.env, log)
    most = 0
    deadline = time.monotonic() + 240
    while run.poll() is None:
        # a trial logs "attempt" after Ray placed it and "finished" before it releases its share:
        # what is seen running is never more than what Ray placed at once
        texts = [p.read_text() for p in (out / "trials").glob("*/log.txt")] if (out / "trials").is_dir() else []
        most = max(most, sum(1 for t in texts if "attempt" in t and "finished" not in t))
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.1)
    assert run.returncode == 0, log.read_text()[-3000:]
    return out, most, log.read_text()


def _spans(out: Path) -> dict[str, tuple[datetime, datetime]]:
    """Each trial's first log line and its "finished" line (times to the second)."""
    spans = {}
    for path in sorted((out / "trials").glob("*/log.txt")):
        lines = path.read_text().splitlines()
        at = lambda line: datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")  # noqa: E731
        spans[path.parent.name] = (at(lines[0]), at(next(line for line in lines if " finished: " in line)))
    return spans


def _check_trials(out: Path, trials: int, driver_log: str) -> None:
    """Every trial finished once, on the expected device, without a traceback."""
    rows = [r for r in ResultsStore(out).rows().values() if r.kind == "search"]
    assert len(rows) == trials and all(r.status == "finished" and r.attempts == 1 for r in rows), [(r.trial, r.status, r.error) for r in rows]
    for row in rows:
        log = (out / "trials" / row.trial / "log.txt").read_text()
        assert f"device {EXPECTED_DEVICE} (Ray granted GPU 0" in log and "CUDA_VISIBLE_DEVICES=0)" in log, log
        assert "Traceback" not in log
        metrics = json.loads((out / "trials" / row.trial / "metrics.json").read_text())
        assert metrics["config"]["device"] == EXPECTED_DEVICE
    assert "Traceback" not in driver_log


@pytest.mark.slow
def test_quarter_gpu_runs_four_trials_at_once(one_gpu_node, tmp_path, tiny_dataset, tiny_table):
    out, _, log = _search(one_gpu_node, tmp_path, tiny_dataset, tiny_table, trials=4, gpus_per_trial=0.25)
    assert "resources: 4 trial(s) at once on 1 node(s) (4 CPU, 1 GPU; a trial takes 1 CPU and 0.25 GPU)" in log
    _check_trials(out, 4, log)
    spans = _spans(out)
    # the last trial started (to the second) before the first one finished: all four ran together
    assert max(start for start, _ in spans.values()) < min(end for _, end in spans.values()), spans


@pytest.mark.slow
def test_half_gpu_runs_two_trials_at_once(one_gpu_node, tmp_path, tiny_dataset, tiny_table):
    out, most, log = _search(one_gpu_node, tmp_path, tiny_dataset, tiny_table, trials=3, gpus_per_trial=0.5)
    assert "resources: 2 trial(s) at once on 1 node(s) (4 CPU, 1 GPU; a trial takes 1 CPU and 0.5 GPU)" in log
    _check_trials(out, 3, log)
    assert most <= 2  # the four CPUs would take a third; the GPU's halves do not
    spans = sorted(_spans(out).values())
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:])), spans  # two did run together
