"""Several fidelity reports ranked together (nas.analysis.pooling), on hand-built reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nas.analysis.pooling import ReportError, pool_fidelity, pooled_report_name, read_fidelity_reports
from tests.analysis.reports import fidelity_report, with_neck


@pytest.fixture()
def reports_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """bench/reports/ of a checkout in tmp_path, the working directory: paths in messages read as in one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bench" / "reports").mkdir(parents=True)
    return Path("bench") / "reports"


def test_pooled_ranks_both_samples_against_all_validation_images(reports_dir: Path) -> None:
    a1, a2, a3, b1, b2, b3 = (with_neck(n) for n in ("none_c48_l4.4", "fpn_c64_l2.5", "panet_c48_l2.5",
                                                     "none_c96_l4.4", "fpn_c96_l3.5", "bifpn_c64_l3.5_dw_r2"))
    # the 80-image long scores run the other way: a pooled figure taken from them would be negative
    first = fidelity_report({a1: (1.0, 70.0, 60.0), a2: (5.0, 65.0, 66.0), a3: (4.0, 64.0, 67.0)})
    second = fidelity_report({b1: (2.0, 69.0, 62.0), b2: (6.0, 61.0, 68.0), b3: (7.0, 60.0, 69.0)})
    second["proxy_config"].pop("ema_decay")  # recorded before the setting existed: still the same settings
    for name, report in (("proxy_fidelity_a", first), ("proxy_fidelity_b", second)):
        (reports_dir / f"{name}.json").write_text(json.dumps(report))

    summary = pool_fidelity(read_fidelity_reports(reports_dir, ["proxy_fidelity_a", "proxy_fidelity_b"]), resamples=200)

    assert summary["over"] == 6
    assert summary["reference"] == ["10x GPS AP on all validation images"]
    assert summary["kendall_tau"] == pytest.approx(13 / 15)  # only (a2, a3) of the 15 pairs is swapped
    low, high = summary["kendall_tau_95"]
    assert low <= summary["kendall_tau"] <= high <= 1.0
    assert summary["resamples"] == 200
    assert summary["single_level_necks"] == 2
    assert summary["multi_level_over"] == 4
    assert summary["multi_level_kendall_tau"] == pytest.approx(2 / 3)  # 1 of 6 pairs swapped
    assert summary["neck_pairs_ordered_alike"] == pytest.approx(1.0)
    assert summary["long_single_level"] == [60.0, 62.0]
    assert summary["long_multi_level"] == [66.0, 69.0]
    assert json.dumps(summary)  # plain JSON: no NaN, no numpy arrays


def test_pooled_writes_null_for_a_set_without_single_level_necks(reports_dir: Path) -> None:
    archs = [with_neck(n) for n in ("fpn_c64_l2.5", "panet_c48_l2.5", "fpn_c96_l3.5", "bifpn_c64_l3.5_dw_r2")]
    report = fidelity_report({a: (float(i), 0.0, 60.0 + i) for i, a in enumerate(archs)})
    summary = pool_fidelity([report], resamples=20)
    assert summary["single_level_necks"] == 0 and summary["long_single_level"] is None
    assert summary["neck_pairs_ordered_alike"] is None  # no (single, multi) pair: undefined, not NaN
    assert summary["kendall_tau"] == pytest.approx(1.0) and summary["multi_level_kendall_tau"] == pytest.approx(1.0)


def test_pooled_refuses_reports_it_cannot_pool(reports_dir: Path) -> None:
    arch = with_neck("fpn_c64_l2.5")
    (reports_dir / "proxy_fidelity_a.json").write_text(json.dumps(fidelity_report({arch: (1.0, 60.0, 61.0)})))
    other_data = fidelity_report({arch: (1.0, 60.0, 61.0)}, data={"train_images": 320, "val_images": 80})
    (reports_dir / "proxy_fidelity_b.json").write_text(json.dumps(other_data))
    (reports_dir / "proxy_cost.json").write_text(json.dumps({"arch": arch, "metrics": {}}))

    for names, message, at_fault in ((["proxy_fidelity_a", "proxy_fidelity_b"], "differ in data", None),
                                     (["proxy_fidelity_a", "proxy_fidelity_missing"], "no bench/reports/proxy_fidelity_missing.json",
                                      "proxy_fidelity_missing"),
                                     (["proxy_fidelity_a", "proxy_cost"], "not a fidelity report", "proxy_cost")):
        with pytest.raises(ReportError, match=message) as refused:
            read_fidelity_reports(reports_dir, names)
        assert refused.value.report == at_fault
    assert sorted(p.name for p in reports_dir.iterdir()) == ["proxy_cost.json", "proxy_fidelity_a.json", "proxy_fidelity_b.json"]
    with pytest.raises(ReportError, match="only 1 architectures"):
        pool_fidelity(read_fidelity_reports(reports_dir, ["proxy_fidelity_a"]), resamples=10)


def test_a_set_of_reports_other_than_the_default_gets_its_own_name() -> None:
    default = ("proxy_fidelity_2000img", "proxy_fidelity_2000img_sample3")
    assert pooled_report_name(default, default) == "proxy_fidelity_pooled"
    assert pooled_report_name(["proxy_fidelity_a", "proxy_fidelity_b"], default) == "proxy_fidelity_pooled_a+b"
    assert pooled_report_name(["proxy_fidelity", "proxy_fidelity_b"], default) == "proxy_fidelity_pooled_default+b"
