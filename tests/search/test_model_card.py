"""The model card's caveat: the run's own proxy, and the proxy's measured record quoted only
for the settings it was measured with (nas/export/proxy_record.json)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from nas.export import card
from nas.export.record import RECORD_FILE, measured_record, shipped_record
from nas.runs.rows import TrialRow
from nas.space.references import reference
from nas.train.budget import Budget
from nas.train.proxy import DEFAULT_PROXY

REPO = Path(__file__).resolve().parents[2]


def _small_proxy(steps: int, input_size: list[int]) -> dict[str, Any]:
    """A run's proxy as a hand-written config records it (not the measured one)."""
    return {"budget": {"steps": steps}, "input_size": input_size, "batch_size": 2, "evals": 1, "seed": 0}


def _whole_card(proxy: dict[str, Any], table_meta: dict[str, Any]) -> str:
    arch = reference("densemobile")
    row = TrialRow("t0001", 1, "search", "", arch.to_string(), arch.id, "finished", steps=proxy["budget"]["steps"], progress=1.0,
                   latency_ms=42.0, params=1_000_000, macs=2_000_000, gps_ap=10.0, gps_ap50=20.0, gps_ap75=5.0, gpsm_ap=11.0)
    config = {"out": "results/x", "table": "latency_tables/t", "data": "data/d", "proxy": proxy}
    return card.model_card(row, config, table_meta, ["model.pt"], on_front=True)


def _card(proxy: dict[str, Any]) -> str:
    text = _whole_card(proxy, {"device": "cpu"})
    return text[text.index("## Caveat"):text.index("## Reproduce")]


def test_caveat_quotes_the_record_for_the_proxy_it_was_measured_for() -> None:
    caveat = _card(DEFAULT_PROXY.to_dict())
    steps, (h, w) = DEFAULT_PROXY.budget.steps, DEFAULT_PROXY.input_size
    assert f"short proxy training ({steps} steps at {h}x{w})" in caveat
    assert f"Measured for this proxy ({steps} steps at {h}x{w}, 400 and 2,000 images of the `proxy` synthetic scenes" in caveat
    assert "as a 10x longer training does in 80% of such pairs" in caveat
    assert "differ by a median 3.6 GPS AP points" in caveat
    assert "Kendall tau 0.2-0.55 (0.42 over 24 networks)" in caveat and "docs/proxy.md" in caveat
    assert "not measured" not in caveat
    # the record was scored before the official metric became the score: the card says so
    assert "scored with the project's former GPS AP rules (`nas eval --wrong-part zero" in caveat
    assert "{" not in caveat and "}" not in caveat  # every placeholder was filled


@pytest.mark.parametrize("changes", [{"budget": Budget(steps=300), "input_size": (320, 240)}, {"lr": 1e-3}, {"ema_decay": 0.98},
                                     {"val_images": None}, {"batch_size": 2}])
def test_a_changed_proxy_is_not_measured(changes: dict[str, Any]) -> None:
    caveat = _card(replace(DEFAULT_PROXY, **changes).to_dict())
    assert "not measured for these settings" in caveat
    assert "holds for 150 steps at 256x192, 400 and 2,000 images of the `proxy` synthetic scenes only" in caveat
    assert "Kendall tau" not in caveat and "80%" not in caveat and "3.6" not in caveat
    assert "docs/proxy.md" in caveat and "{" not in caveat and "}" not in caveat


def test_caveat_names_the_runs_own_proxy_when_it_is_not_measured() -> None:
    caveat = _card(_small_proxy(10, [128, 96]))
    assert "short proxy training (10 steps at 128x96)" in caveat
    assert "not measured for these settings" in caveat and "Kendall tau" not in caveat


def test_where_and_from_which_seed_a_proxy_ran_does_not_count() -> None:
    for changes in ({"device": "cpu"}, {"threads": 2}, {"seed": 1}):
        assert measured_record(replace(DEFAULT_PROXY, **changes).to_dict()) is not None
    older = {k: v for k, v in DEFAULT_PROXY.to_dict().items() if k != "ema_decay"}  # recorded before the setting existed
    assert measured_record(older) is not None


def test_the_shipped_record_is_the_default_proxys_and_matches_its_reports() -> None:
    record = shipped_record()
    assert record.measured_for(DEFAULT_PROXY.to_dict())
    data = json.loads(RECORD_FILE.read_text())
    for name, figure in data["figures"].items():
        quoted = figure["value"] if isinstance(figure["value"], list) else [figure["value"]]
        measured = sorted(json.loads((REPO / s["report"]).read_text())[s["key"]] for s in figure["sources"])
        assert len(measured) == len(quoted), name
        for value, shown in zip(measured, quoted):  # each quoted figure is its report's, rounded as shown
            assert round(value, len(str(shown).split(".")[1])) == shown, (name, value, shown)
        for source in figure["sources"]:
            report = json.loads((REPO / source["report"]).read_text())
            assert source["command"].startswith("python bench/bench_proxy.py ")
            # the report's data has the image count the record gives it, and its proxy the record's settings
            counts = report.get("data") or json.loads((REPO / "bench/reports" / f"{report['reports'][0]}.json").read_text())["data"]
            assert counts["train_images"] + counts["val_images"] == source["images"], name
            settings = report.get("proxy_config", report.get("proxy"))
            if isinstance(settings, dict):
                assert record.measured_for(settings), name
    assert data["figures"]["pooled_kendall_tau"]["over"] == json.loads((REPO / "bench/reports/proxy_fidelity_pooled.json").read_text())["over"]


def test_model_card_says_the_latency_table_is_part_fitted() -> None:
    meta = {"device": "cpu", "runtime": "executorch", "threads": 1, "dtype": "fp32"}
    plain = _whole_card(_small_proxy(10, [128, 96]), meta)
    filled = _whole_card(_small_proxy(10, [128, 96]), {**meta, "fill": {"rows": 3508}})
    assert "--fill" not in plain and "42.00 ms" in plain
    assert "3508 of the table's ops fitted from measured ones by `nas profile --fill`" in filled
    adapted = _whole_card(_small_proxy(10, [128, 96]), {**meta, "fill": {"rows": 3400, "method": "adapt"}})
    assert "3400 of the table's ops predicted from another device's table by `nas profile --adapt-from`" in adapted
    assert "--fill" not in adapted


def test_card_names_paths_relative_to_the_run_folder() -> None:
    """A card copied or committed with its run names no folder of the machine that made it."""
    arch = reference("densemobile")
    row = TrialRow("t0001", 1, "search", "", arch.to_string(), arch.id, "finished", steps=10, progress=1.0,
                   latency_ms=42.0, params=1_000_000, macs=2_000_000, gps_ap=10.0, gps_ap50=20.0, gps_ap75=5.0, gpsm_ap=11.0)
    config = {"out": "/home/u/nas/results/run1", "table": "/home/u/nas/latency_tables/t", "data": "/home/u/nas/data/d",
              "proxy": _small_proxy(10, [128, 96])}
    text = card.model_card(row, config, {"device": "cpu"}, ["model.pt"], on_front=True)
    assert "/home/u" not in text
    assert "search run `run1` (paths below are relative to the run folder)" in text
    assert "table `../../latency_tables/t`" in text
    assert "--data ../../data/d --budget-steps 10" in text
