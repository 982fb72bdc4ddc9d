"""Proxy training: budgets, schedule, metrics, determinism, exact resume, CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch

from nas.cli import main
from nas.errors import NasError
from nas.space import decode
from nas.train import Budget, TrainConfig, lr_factor, train
from nas.train.budget import BudgetError
from nas.train.checkpoint import CheckpointError

ARCH = decode(
    "stem_k3_c16_s2_relu+ir_k3_e3_c16_n1_s2_relu+ir_k3_e3_c24_n1_s2_relu+dw_k3_c32_n1_s2_relu+ir_k3_e3_c48_n1_s2_relu"
    "+fpn_c32_l2.5+head_n2_c32_k3_r7_o28_b64+in128x96"
)


def _config(steps: int = 4, **kw) -> TrainConfig:
    settings = {"input_size": (128, 96), "batch_size": 2, "evals": 2, "val_images": 2, "seed": 1, "device": "cpu", **kw}
    return TrainConfig(budget=Budget(steps=steps), **settings)


def test_budget_needs_exactly_one_positive_value() -> None:
    with pytest.raises(BudgetError, match="exactly one"):
        Budget()
    with pytest.raises(BudgetError, match="exactly one"):
        Budget(steps=3, seconds=2.0)
    with pytest.raises(BudgetError, match="must be positive"):
        Budget(epochs=0)
    with pytest.raises(BudgetError, match="budget epochs must be positive and finite, got inf"):
        Budget(epochs=float("inf"))  # was an OverflowError when the steps were counted
    assert Budget(epochs=1.5).total_steps(10) == 15
    assert Budget(seconds=10).total_steps(10) is None
    assert Budget(seconds=10).progress(3, 5.0, 10) == 0.5


def test_config_ranges_are_checked() -> None:
    from nas.train.config import TrainConfigError

    assert TrainConfig(input_size=(16, 8192)).input_size == (16, 8192)  # the limits themselves pass
    with pytest.raises(TrainConfigError, match=r"--proxy-input 0 10: height and width must be in 16\.\.8192"):
        TrainConfig(input_size=(0, 10))
    with pytest.raises(TrainConfigError, match="--batch-size must be at least 1, got 0; --lr must be positive and finite"):
        TrainConfig(batch_size=0, lr=0.0)
    with pytest.raises(TrainConfigError, match=r"warmup is a fraction of the budget in \[0, 1\), got 1"):
        TrainConfig(warmup=1)
    with pytest.raises(TrainConfigError, match=r"--ema-decay is a decay per step in \[0, 1\) \(0: off\), got 1.0"):
        TrainConfig(ema_decay=1.0)
    with pytest.raises(TrainConfigError, match="--lr must be positive and finite, got nan"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(TrainConfigError, match="unknown device 'tpu'; use cpu, cuda, cuda:N or auto"):
        TrainConfig(device="tpu")
    assert TrainConfig(device="cuda:1").device == "cuda:1"  # checked for existence when training starts


def test_lr_schedule_warmup_then_cosine() -> None:
    assert lr_factor(0.05, 0.1) == pytest.approx(0.5)
    assert lr_factor(0.1, 0.1) == pytest.approx(1.0)
    assert lr_factor(0.55, 0.1) == pytest.approx(0.5)
    assert lr_factor(1.0, 0.1) == pytest.approx(0.0, abs=1e-12)
    assert lr_factor(0.0, 0.0) == 1.0


def test_train_reports_metrics_at_each_evaluation_point(tiny_dataset, tmp_path) -> None:
    seen = []
    result = train(ARCH, tiny_dataset, _config(), out_dir=tmp_path, report=seen.append, progress=False)
    assert [m["steps"] for m in seen] == [2.0, 4.0]
    for key in ("gps_ap", "gpsm_ap", "ap50", "ap75", "iou_ap", "train_seconds"):
        assert key in result.metrics
    assert all(-1 <= result.metrics[k] <= 100 for k in ("gps_ap", "gpsm_ap", "ap50", "ap75"))
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["metrics"] == result.metrics and saved["arch"] == ARCH.to_string()
    assert (tmp_path / "checkpoint.pt").exists()
    # an Evaluator over the same two validation images, given as a range, scores the same
    from nas.train import Evaluator
    from nas.data.source import DatasetSource

    paths, model = DatasetSource.load(tiny_dataset), result.model.eval()
    again = Evaluator(paths, _config(val_images=None), torch.device("cpu"), images=range(0, 2))(model)
    assert again["gps_ap"] == result.metrics["gps_ap"] and again["detections"] == result.metrics["detections"]
    count = len(Evaluator(paths, _config(val_images=None), torch.device("cpu")).image_ids)
    with pytest.raises(NasError, match=rf"validation images 1\.\.{count} are out of range: .*val.json has {count}"):
        Evaluator(paths, _config(), torch.device("cpu"), images=range(1, count + 1))


@pytest.mark.parametrize(("precise_bn", "ema"), [(0, 0.0), (2, 0.0), (0, 0.9)])
def test_training_is_deterministic_and_resume_is_exact(tiny_dataset, tmp_path, precise_bn, ema) -> None:
    settings = {"precise_bn_batches": precise_bn, "ema_decay": ema}
    straight = train(ARCH, tiny_dataset, _config(**settings), out_dir=tmp_path / "a", progress=False)

    class Killed(Exception):
        pass

    def kill_at_first_eval(metrics: dict) -> None:
        raise Killed

    with pytest.raises(Killed):
        train(ARCH, tiny_dataset, _config(**settings), out_dir=tmp_path / "b", report=kill_at_first_eval, progress=False)
    resumed = train(ARCH, tiny_dataset, _config(**settings), out_dir=tmp_path / "b", resume=True, progress=False)
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
    assert resumed.metrics["loss"] == straight.metrics["loss"]
    assert [h["steps"] for h in resumed.history] == [2.0, 4.0]


def test_resume_refuses_another_architecture(tiny_dataset, tmp_path) -> None:
    train(ARCH, tiny_dataset, _config(steps=2), out_dir=tmp_path, progress=False)
    other = decode(ARCH.to_string().replace("fpn_c32", "fpn_c48"))
    with pytest.raises(CheckpointError, match="belongs to another architecture"):
        train(other, tiny_dataset, _config(steps=2), out_dir=tmp_path, resume=True, progress=False)


def test_resume_refuses_another_weight_average_setting(tiny_dataset, tmp_path) -> None:
    train(ARCH, tiny_dataset, _config(steps=2, evals=1, ema_decay=0.0), out_dir=tmp_path, progress=False)
    with pytest.raises(CheckpointError, match="was trained without a weight average"):
        train(ARCH, tiny_dataset, _config(steps=2, evals=1, ema_decay=0.9), out_dir=tmp_path, resume=True, progress=False)


def test_corrupt_checkpoint_is_a_clear_error(tiny_dataset, tmp_path) -> None:
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        train(ARCH, tiny_dataset, _config(steps=2), out_dir=tmp_path, resume=True, progress=False)


def test_cuda_request_without_cuda_fails_clearly(tiny_dataset) -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(NasError, match="no CUDA device"):
        train(ARCH, tiny_dataset, TrainConfig(device="cuda"), progress=False)


def test_cli_train_json(tiny_dataset, tmp_path, capsys) -> None:
    code = main(["train", ARCH.to_string(), "--data", str(tiny_dataset), "--budget-steps", "2", "--input", "128", "96",
                 "--batch-size", "2", "--evals", "1", "--val-images", "2", "--device", "cpu", "--ema-decay", "0.9",
                 "--out", str(tmp_path / "run"), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    metrics = json.loads(out[out.index("{"):])
    assert metrics["steps"] == 2.0 and math.isfinite(metrics["gps_ap"])
    from nas.train.checkpoint import load_checkpoint

    saved = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert saved["ema"]["updates"] == 2 and saved["ema"]["decay"] == 0.9
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["config"]["ema_decay"] == 0.9


def test_cli_train_bad_inputs(tmp_path, capsys) -> None:
    assert main(["train", "densemobile", "--data", str(tmp_path)]) == 2
    assert "lacks" in capsys.readouterr().err
    (tmp_path / "train.json").write_text("{}")
    assert main(["train", "densemobile", "--data", str(tmp_path / "train.json")]) == 2
    assert "train.json is a file but not a dataset descriptor (a .yaml or .yml file)" in capsys.readouterr().err
    assert main(["train", "densemobile", "--data", str(tmp_path), "--budget-steps", "2", "--budget-epochs", "1"]) == 2
    assert "exactly one budget" in capsys.readouterr().err
    # checked before the data: a traceback from the first conv used to be the answer
    assert main(["train", "densemobile", "--data", str(tmp_path), "--budget-steps", "2", "--input", "0", "10"]) == 2
    assert "--proxy-input 0 10: height and width must be in 16..8192" in capsys.readouterr().err
    assert main(["train", "densemobile", "--data", str(tmp_path), "--ema-decay", "1"]) == 2
    assert "--ema-decay is a decay per step in [0, 1) (0: off), got 1.0" in capsys.readouterr().err
