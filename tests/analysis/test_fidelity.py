"""The figures of one fidelity report (nas.analysis.fidelity), on hand-built reports."""

from __future__ import annotations

import pytest

from nas.analysis.fidelity import (as_now, fidelity_summary, long_reference, score_taus, seed_redraw_all_val_summary,
                                   taus_between_variants)
from nas.train.proxy import proxy_config
from tests.analysis.reports import fidelity_report, with_neck

ARCHS = [with_neck(n) for n in ("none_c48_l4.4", "fpn_c64_l2.5", "panet_c48_l2.5", "bifpn_c64_l3.5_dw_r2")]


def test_seed_redraw_is_compared_on_all_validation_images() -> None:
    archs = ARCHS
    report = fidelity_report({a: (float(i), 50.0 - i, 60.0 + i) for i, a in enumerate(archs)})
    assert seed_redraw_all_val_summary(report, archs) == {}  # no seed-1 runs yet
    # seed 1 on all val: 61, 60, 62 (the fourth not trained at seed 1); the 80-image scores
    # (falling) must not be what is compared
    report["long_seed1_val"] = {archs[0]: {"all": 61.0}, archs[1]: {"all": 60.0}, archs[2]: {"all": 62.0}}
    figures = seed_redraw_all_val_summary(report, archs)["long_seed_all_val"]
    assert figures["over"] == 3
    assert figures["median_abs_difference"] == pytest.approx(1.0)  # |60-61|, |61-60|, |62-62|
    assert figures["kendall_tau_between_draws"] == pytest.approx(1 / 3)
    assert figures["proxy_kendall_tau_vs_seed0"] == pytest.approx(1.0)


def test_fidelity_summary_against_hand_values() -> None:
    a, b, c, d = ARCHS
    # proxy 1, 2, 3, 4; long (80 images) 10, 30, 20, 40: one pair of six swapped (tau 2/3);
    # long on all images 15, 25, 35, 45: the proxy's order (tau 1); d has no long run yet
    report = fidelity_report({a: (1.0, 10.0, 15.0), b: (2.0, 30.0, 25.0), c: (3.0, 20.0, 35.0), d: (4.0, 40.0, 45.0)})
    del report["long"][d], report["long_val"][d]
    report["long_earlier"] = {a: 12.0, b: 28.0, c: 26.0}  # an earlier draw: 12, 28, 26 against 10, 30, 20
    report["long_seed1"] = {a: 11.0, b: 29.0}
    summary = fidelity_summary(report)
    assert summary["kendall_tau_over"] == 3
    assert summary["kendall_tau"] == pytest.approx(1 / 3)  # over a, b, c: (b, c) swapped
    assert summary["spearman"] == pytest.approx(0.5)
    assert summary["proxy_spread"] == pytest.approx(2.0) and summary["long_spread"] == pytest.approx(20.0)
    assert summary["kendall_tau_long_all_val"] == {"tau": pytest.approx(1.0), "over": 3, "long_spread": pytest.approx(20.0)}
    assert "kendall_tau_long_rest_val" not in summary  # no "rest" scores recorded
    redraw = summary["long_redraw"]  # earlier 12, 28, 26 vs now 10, 30, 20: |2|, |2|, |6|; same order
    assert redraw["over"] == 3 and redraw["median_abs_difference"] == pytest.approx(2.0)
    assert redraw["max_abs_difference"] == pytest.approx(6.0) and redraw["kendall_tau_between_draws"] == pytest.approx(1.0)
    assert redraw["proxy_kendall_tau_vs_earlier"] == pytest.approx(1 / 3)
    assert summary["long_seed_abs_difference"] == {"median": pytest.approx(1.0), "max": pytest.approx(1.0), "over": 2}
    assert "long_seed_kendall_tau" not in summary  # two seed-1 runs: too few to rank
    assert "long_seed_all_val" not in summary and "alternative_scores_kendall_tau" not in summary


def test_fidelity_summary_ranks_other_scores_of_the_proxy_runs() -> None:
    a, b, c = ARCHS[:3]
    report = fidelity_report({a: (1.0, 10.0, 15.0), b: (2.0, 30.0, 25.0), c: (3.0, 20.0, 35.0)})
    # against the long runs on all images (15, 25, 35): iou_ap75 in that order, gpsm_ap75 reversed, gps_ap75 all 0
    report["proxy_metrics"] = {a: {"gps_ap": 1.0, "iou_ap75": 1.0, "gpsm_ap75": 9.0, "gps_ap75": 0.0},
                               b: {"gps_ap": 2.0, "iou_ap75": 2.0, "gpsm_ap75": 8.0, "gps_ap75": 0.0},
                               c: {"gps_ap": 3.0, "iou_ap75": 5.0, "gpsm_ap75": 7.0, "gps_ap75": 0.0}}
    figures = fidelity_summary(report)["alternative_scores_kendall_tau"]
    assert figures["over"] == 3
    assert figures["tau"] == {"gps_ap": pytest.approx(1.0), "iou_ap75": pytest.approx(1.0), "gpsm_ap75": pytest.approx(-1.0),
                              "gps_ap75": None}  # undefined (every score 0): null, and scores not recorded left out


def test_long_reference_takes_all_validation_images_only_when_every_long_run_has_them() -> None:
    a, b = ARCHS[:2]
    report = fidelity_report({a: (1.0, 10.0, 15.0), b: (2.0, 30.0, 25.0)})
    assert long_reference(report) == ([a, b], {a: 15.0, b: 25.0}, "10x GPS AP on all validation images")
    del report["long_val"][b]
    assert long_reference(report) == ([a, b], {a: 10.0, b: 30.0}, "10x GPS AP on the proxy's validation images")


def test_as_now_fills_settings_recorded_before_they_existed() -> None:
    recorded = proxy_config().to_dict()
    older = {k: v for k, v in recorded.items() if k != "ema_decay"}
    assert as_now(older) == as_now(recorded) == recorded
    assert as_now({"train_images": 1600}) == {"train_images": 1600}  # not a training config: as it is
    assert as_now(None) is None


def test_variant_scores_and_taus_between_variants() -> None:
    a, b, c, d = ARCHS
    long = {a: 10.0, b: 20.0, c: 30.0, d: 40.0}
    metrics = {a: {"gps_ap": 1.0, "loss": 4.0}, b: {"gps_ap": 3.0, "loss": 3.0}, c: {"gps_ap": 2.0, "loss": 2.0},
               d: {"gps_ap": 4.0, "loss": 1.0}}
    # GPS AP swaps (b, c): tau 4/6; the loss falls as the long AP rises: neg_loss tau 1
    assert score_taus(metrics, long, [a, b, c, d], ("gps_ap", "neg_loss")) == {"gps_ap": pytest.approx(2 / 3),
                                                                              "neg_loss": pytest.approx(1.0)}
    other = {x: {"gps_ap": v} for x, v in ((a, 1.0), (b, 2.0), (c, 3.0))}  # d not trained under it
    tiny = {x: {"gps_ap": 0.0} for x in (a, b)}  # two in common: too few
    between = taus_between_variants({"v1": {"metrics": metrics}, "v2": {"metrics": other}, "v3": {"metrics": tiny}}, [a, b, c, d])
    assert between == {"v1 vs v2": {"tau": pytest.approx(1 / 3), "over": 3}}
