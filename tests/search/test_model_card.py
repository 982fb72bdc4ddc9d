"""The model card's caveat: the run's own proxy, and the default proxy's measured ranking quality."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from nas.export import card
from nas.runs.rows import TrialRow
from nas.space.references import reference
from nas.train.budget import Budget
from nas.train.proxy import DEFAULT_PROXY


def _whole_card(steps: int, input_size: list[int], table_meta: dict[str, Any]) -> str:
    arch = reference("densemobile")
    row = TrialRow("t0001", 1, "search", "", arch.to_string(), arch.id, "finished", steps=steps, progress=1.0, latency_ms=42.0,
                   params=1_000_000, macs=2_000_000, gps_ap=10.0, gps_ap50=20.0, gps_ap75=5.0, gpsm_ap=11.0)
    config = {"out": "results/x", "table": "latency_tables/t", "data": "data/d",
              "proxy": {"budget": {"steps": steps}, "input_size": input_size, "batch_size": 2, "evals": 1, "seed": 0}}
    return card.model_card(row, config, table_meta, ["model.pt"], on_front=True)


def _card(steps: int, input_size: list[int]) -> str:
    text = _whole_card(steps, input_size, {"device": "cpu"})
    return text[text.index("## Caveat"):text.index("## Reproduce")]


def test_caveat_names_the_runs_proxy_and_the_default_proxys_record() -> None:
    caveat = _card(10, [128, 96])
    assert "short proxy training (10 steps at 128x96)" in caveat
    steps, (h, w) = DEFAULT_PROXY.budget.steps, DEFAULT_PROXY.input_size
    assert f"default proxy ({steps} steps at {h}x{w} on the `proxy` synthetic scenes" in caveat
    assert "Kendall tau 0.2-0.55" in caveat and "docs/proxy.md" in caveat
    assert "{" not in caveat and "}" not in caveat  # every placeholder was filled


def test_caveat_follows_the_default_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(card, "DEFAULT_PROXY", replace(DEFAULT_PROXY, budget=Budget(steps=300), input_size=(320, 240)))
    assert "default proxy (300 steps at 320x240 on" in _card(10, [128, 96])


def test_model_card_says_the_latency_table_is_part_fitted() -> None:
    meta = {"device": "cpu", "runtime": "executorch", "threads": 1, "dtype": "fp32"}
    plain = _whole_card(10, [128, 96], meta)
    filled = _whole_card(10, [128, 96], {**meta, "fill": {"rows": 3508}})
    assert "--fill" not in plain and "42.00 ms" in plain
    assert "3508 of the table's ops fitted from measured ones by `nas profile --fill`" in filled
