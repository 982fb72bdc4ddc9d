"""The proxy config built from command options (every command's one builder), and the
typed training result."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nas.train import Budget, TrainConfig, TrainResult
from nas.train.budget import BudgetError
from nas.train.config import TrainConfigError
from nas.train.options import ProxyOptions, build_proxy_config
from nas.train.proxy import DEFAULT_PROXY


def test_no_option_keeps_the_base() -> None:
    assert build_proxy_config(ProxyOptions(), DEFAULT_PROXY) == DEFAULT_PROXY
    assert build_proxy_config(ProxyOptions(), TrainConfig()) == TrainConfig()


def test_options_given_replace_the_base_settings() -> None:
    options = ProxyOptions(budget_steps=30, input_size=(128, 96), batch_size=2, lr=1e-3, evals=3, val_images=5, seed=4, device="cpu",
                           threads=1, ema_decay=0.9)
    config = build_proxy_config(options, DEFAULT_PROXY)
    assert config == replace(DEFAULT_PROXY, budget=Budget(steps=30), input_size=(128, 96), batch_size=2, lr=1e-3, evals=3, val_images=5,
                             seed=4, device="cpu", threads=1, ema_decay=0.9)
    assert build_proxy_config(ProxyOptions(input_size=[128, 96]), DEFAULT_PROXY).input_size == (128, 96)  # type: ignore[arg-type]
    assert build_proxy_config(ProxyOptions(budget_epochs=1.5), DEFAULT_PROXY).budget == Budget(epochs=1.5)
    assert build_proxy_config(ProxyOptions(ema_decay=0.0), replace(DEFAULT_PROXY, ema_decay=0.5)).ema_decay == 0.0  # 0 is a value


def test_bad_options_are_refused_as_the_config_refuses_them() -> None:
    with pytest.raises(BudgetError, match="exactly one"):
        build_proxy_config(ProxyOptions(budget_steps=2, budget_epochs=1.0), DEFAULT_PROXY)
    with pytest.raises(TrainConfigError, match=r"--proxy-input 0 10: height and width must be in 16\.\.8192; --lr must be positive"):
        build_proxy_config(ProxyOptions(input_size=(0, 10), lr=0.0), DEFAULT_PROXY)


def test_train_result_takes_the_last_evaluation_point() -> None:
    first = {"gps_ap": 1.0, "gpsm_ap": 2.0, "iou_ap": 3.0, "ap50": 4.0, "ap75": 5.0, "train_seconds": 6.0, "steps": 7.0}
    last = {k: v * 10 for k, v in first.items()}
    result = TrainResult.from_history([first, last], None)
    assert (result.gps_ap, result.gpsm_ap, result.iou_ap, result.ap50, result.ap75, result.train_seconds) == (10, 20, 30, 40, 50, 60)
    assert result.steps == 70 and isinstance(result.steps, int)
    assert result.to_dict() == last and list(result.to_dict()) == list(last) and result.history == [first, last]
