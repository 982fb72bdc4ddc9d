"""The analysis half of bench/bench_proxy.py (what turns recorded trainings into the
fidelity figures an issue quotes), on hand-built reports: no training runs."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from nas.space.references import reference
from nas.train.proxy import proxy_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_proxy_under_test", REPO / "bench" / "bench_proxy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def reports_dir(bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """bench_proxy reads and writes its reports under tmp_path instead of the checkout."""
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    monkeypatch.setattr(bench, "REPORTS", tmp_path / "bench" / "reports")
    (tmp_path / "bench" / "reports").mkdir(parents=True)
    return tmp_path / "bench" / "reports"


def with_neck(neck: str) -> str:
    """densemobile with another neck: a valid architecture string per neck token."""
    tokens = reference("densemobile").to_string().split("+")
    tokens[-3] = neck
    return "+".join(tokens)


def fidelity_report(scores: dict[str, tuple[float, float, float]], **changes: object) -> dict[str, object]:
    """A fidelity report of ``arch: (proxy, long on the proxy's val images, long on all val)``."""
    report: dict[str, object] = {
        "archs": list(scores), "factor": 10.0, "data": {"train_images": 1600, "val_images": 400},
        "proxy_config": proxy_config().to_dict(), "long_config": proxy_config(10.0).to_dict(),
        "proxy": {a: s[0] for a, s in scores.items()}, "long": {a: s[1] for a, s in scores.items()},
        "long_val": {a: {"all": s[2]} for a, s in scores.items()}}
    report.update(changes)
    return report


def test_two_draws_against_hand_values(bench: ModuleType) -> None:
    first, second, short = [60.0, 62.0, 64.0, 66.0], [61.0, 60.0, 65.0, 68.0], [1.0, 2.0, 4.0, 3.0]
    figures = bench.two_draws(first, second, short, first_name="seed0")
    # |differences| 1, 2, 1, 2; one of the six pairs swapped between the draws (tau 4/6), one
    # by the proxy against the first draw and against the mean 60.5, 61, 64.5, 67
    assert figures["over"] == 4
    assert figures["median_abs_difference"] == pytest.approx(1.5)
    assert figures["max_abs_difference"] == pytest.approx(2.0)
    assert figures["kendall_tau_between_draws"] == pytest.approx(2 / 3)
    assert figures["proxy_kendall_tau_vs_seed0"] == pytest.approx(2 / 3)
    assert figures["proxy_kendall_tau_vs_draw_mean"] == pytest.approx(2 / 3)


def test_seed_redraw_is_compared_on_all_validation_images(bench: ModuleType) -> None:
    archs = [with_neck(n) for n in ("none_c48_l4.4", "fpn_c64_l2.5", "panet_c48_l2.5", "bifpn_c64_l3.5_dw_r2")]
    report = fidelity_report({a: (float(i), 50.0 - i, 60.0 + i) for i, a in enumerate(archs)})
    assert bench.seed_redraw_all_val_summary(report, archs, 10.0) == {}  # no seed-1 runs yet
    # seed 1 on all val: 61, 60, 62 (the fourth not trained at seed 1); the 80-image scores
    # (falling) must not be what is compared
    report["long_seed1_val"] = {archs[0]: {"all": 61.0}, archs[1]: {"all": 60.0}, archs[2]: {"all": 62.0}}
    figures = bench.seed_redraw_all_val_summary(report, archs, 10.0)["long_seed_all_val"]
    assert figures["over"] == 3
    assert figures["median_abs_difference"] == pytest.approx(1.0)  # |60-61|, |61-60|, |62-62|
    assert figures["kendall_tau_between_draws"] == pytest.approx(1 / 3)
    assert figures["proxy_kendall_tau_vs_seed0"] == pytest.approx(1.0)


def test_pooled_ranks_both_samples_against_all_validation_images(bench: ModuleType, reports_dir: Path) -> None:
    a1, a2, a3, b1, b2, b3 = (with_neck(n) for n in ("none_c48_l4.4", "fpn_c64_l2.5", "panet_c48_l2.5",
                                                     "none_c96_l4.4", "fpn_c96_l3.5", "bifpn_c64_l3.5_dw_r2"))
    # the 80-image long scores run the other way: a pooled figure taken from them would be negative
    first = fidelity_report({a1: (1.0, 70.0, 60.0), a2: (5.0, 65.0, 66.0), a3: (4.0, 64.0, 67.0)})
    second = fidelity_report({b1: (2.0, 69.0, 62.0), b2: (6.0, 61.0, 68.0), b3: (7.0, 60.0, 69.0)})
    second["proxy_config"].pop("ema_decay")  # recorded before the setting existed: still the same settings
    for name, report in (("proxy_fidelity_a", first), ("proxy_fidelity_b", second)):
        (reports_dir / f"{name}.json").write_text(json.dumps(report))

    bench.pooled(argparse.Namespace(reports=["proxy_fidelity_a", "proxy_fidelity_b"], resamples=200))

    summary = json.loads((reports_dir / "proxy_fidelity_pooled_a+b.json").read_text())
    assert summary["over"] == 6
    assert summary["reference"] == ["10x GPS AP on all validation images"]
    assert summary["kendall_tau"] == pytest.approx(13 / 15)  # only (a2, a3) of the 15 pairs is swapped
    low, high = summary["kendall_tau_95"]
    assert low <= summary["kendall_tau"] <= high <= 1.0
    assert summary["single_level_necks"] == 2
    assert summary["multi_level_over"] == 4
    assert summary["multi_level_kendall_tau"] == pytest.approx(2 / 3)  # 1 of 6 pairs swapped
    assert summary["neck_pairs_ordered_alike"] == pytest.approx(1.0)
    assert summary["long_single_level"] == [60.0, 62.0]
    assert summary["long_multi_level"] == [66.0, 69.0]


def test_pooled_refuses_reports_it_cannot_pool(bench: ModuleType, reports_dir: Path) -> None:
    arch = with_neck("fpn_c64_l2.5")
    (reports_dir / "proxy_fidelity_a.json").write_text(json.dumps(fidelity_report({arch: (1.0, 60.0, 61.0)})))
    other_data = fidelity_report({arch: (1.0, 60.0, 61.0)}, data={"train_images": 320, "val_images": 80})
    (reports_dir / "proxy_fidelity_b.json").write_text(json.dumps(other_data))
    (reports_dir / "proxy_cost.json").write_text(json.dumps({"arch": arch, "metrics": {}}))

    for names, message in ((["proxy_fidelity_a", "proxy_fidelity_b"], "differ in data"),
                           (["proxy_fidelity_a", "proxy_fidelity_missing"], "no bench/reports/proxy_fidelity_missing.json"),
                           (["proxy_fidelity_a", "proxy_cost"], "not a fidelity report")):
        with pytest.raises(SystemExit, match=message):
            bench.pooled(argparse.Namespace(reports=names, resamples=10))
    assert sorted(p.name for p in reports_dir.iterdir()) == ["proxy_cost.json", "proxy_fidelity_a.json", "proxy_fidelity_b.json"]
