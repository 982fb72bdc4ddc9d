"""bench/bench_train_speed.py: its phase timer, that timing a step changes nothing the step
computes, and its quick mode end to end on the tiny dataset."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch

from nas.data import collate
from nas.space import decode
from nas.train import loop
from nas.train.budget import Budget
from nas.train.config import TrainConfig
from nas.train.session import set_up
from nas.train.state import TrainState
from tests.bench.conftest import bench_script
from tests.train.test_train import ARCH as TRAIN_TEST_ARCH

ARCH = TRAIN_TEST_ARCH.to_string()  # the small network the training tests use


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    with bench_script("bench_train_speed") as module:
        yield module


def test_timer_gives_each_phase_its_exclusive_time(bench: ModuleType) -> None:
    timer = bench.PhaseTimer(None)
    inner = timer.wrap("rpn", lambda: time.sleep(0.05))

    def outer() -> None:
        time.sleep(0.03)
        inner()

    timer.wrap("backbone_neck", outer)()
    taken = timer.take()
    assert set(taken) == {key for key, _ in bench.PHASES}
    assert 0.05 <= taken["rpn"] < 0.09
    assert 0.03 <= taken["backbone_neck"] < 0.06  # the nested 0.05 s are not counted twice
    assert taken["data"] == 0.0 and sum(timer.take().values()) == 0.0  # taking resets


def test_instrumented_steps_train_exactly_like_plain_ones(bench: ModuleType, tiny_dataset: Path) -> None:
    config = TrainConfig(budget=Budget(steps=2), input_size=(128, 96), batch_size=2, val_images=2, seed=1, device="cpu")
    trained, backward = [], torch.Tensor.backward
    for timed in (False, True):
        session = set_up(decode(ARCH), tiny_dataset, config)
        session.model.train()
        state, timer = TrainState(), bench.PhaseTimer(None)
        for _ in range(2):
            if timed:
                with bench.instrumented(session, timer):
                    loop.train_step(session, state, 0.5)
            else:
                loop.train_step(session, state, 0.5)
        trained.append((list(state.recent_losses), {k: v.clone() for k, v in session.model.state_dict().items()}))
        if timed:
            assert all(v > 0 for v in timer.take().values())
            # everything wrapped is restored: the next step runs untimed
            assert "forward" not in vars(session.model) and "select_proposals" not in vars(session.model.rpn)
            assert torch.Tensor.backward is backward and loop.collate is collate
            loop.train_step(session, state, 0.5)
            assert sum(timer.take().values()) == 0.0
    (plain_losses, plain_weights), (timed_losses, timed_weights) = trained
    assert plain_losses == timed_losses
    assert all(torch.equal(plain_weights[k], timed_weights[k]) for k in plain_weights)


def test_quick_mode_reports_every_phase(bench: ModuleType, tiny_dataset: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "speed.json"
    monkeypatch.setattr(sys, "argv", ["bench_train_speed.py", "--quick", "--data", str(tiny_dataset), "--archs", ARCH,
                                      "--batches", "2", "--steps", "2", "--input", "128", "96", "--overhead-steps", "2",
                                      "--threads", "1", "--json", str(out)])
    bench.main()
    printed = capsys.readouterr().out
    assert "RoIAlign" in printed and "overhead:" in printed
    report = json.loads(out.read_text())
    runs = report["runs"] + [report["overhead"]]
    assert [(r["batch"], r["input"]) for r in runs] == [(2, [128, 96]), (4, [64, 64])]
    for run in runs:
        assert set(run["phases_s"]) == set(report["phases"]) == {key for key, _ in bench.PHASES}
        assert all(seconds > 0 for seconds in run["phases_s"].values()), run["phases_s"]
        assert run["step_s"] > 0 and run["loader_s"] > 0
        assert run["images_per_s"] == pytest.approx(run["batch"] / run["step_s"])
        step = run["instrumented_step_s"]
        # the phases lie inside the step: their sum is at most the step (timer calls aside)
        # and covers most of it (what is left: copying the batch, summing the losses)
        assert 0.7 * step <= run["phase_sum_s"] <= step * 1.02
        assert sum(run["phases_s"].values()) <= step * 1.10


def test_a_batch_larger_than_the_data_is_refused(bench: ModuleType, tiny_dataset: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["bench_train_speed.py", "--quick", "--data", str(tiny_dataset), "--archs", ARCH,
                                      "--batches", "64", "--input", "128", "96", "--threads", "1"])
    with pytest.raises(SystemExit, match="--batches 64 exceeds the 8 training images of .*give smaller batches"):
        bench.main()

