"""The figures of a proxy fidelity report: how well the short proxy training ranks
architectures as a ``factor`` x longer training of the same architectures does.

A fidelity report (written by ``bench/bench_proxy.py fidelity``) holds, per architecture
string: ``proxy`` (the proxy's GPS AP), ``long`` (the long training's, on the proxy's
validation images), ``long_val`` (the long training's final model scored on ``all``
validation images, the proxy's ``first`` ones and the ``rest``), ``long_earlier`` (an
earlier draw of the same long training), ``long_seed1`` / ``long_seed1_val`` (the long
training again at seed 1) and ``proxy_metrics`` (every score of the proxy run). GPS AP
in percent throughout. Every function here reads a report and returns figures; none
prints or writes.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from nas.analysis.ranking import defined, kendall_tau, two_draws
from nas.train.config import as_recorded_now

__all__ = ["as_now", "long_reference", "VARIANT_SCORES", "ALTERNATIVE_SCORES", "fidelity_summary", "alternative_scores_summary",
           "redraw_summary", "seed_redraw_all_val_summary", "score_taus", "taus_between_variants"]

# Scores a proxy trial reports that could stand for the architecture's accuracy; the loss
# is negated so that, like the others, higher means better.
VARIANT_SCORES = ("gps_ap", "gps_ap50", "gpsm_ap", "gpsm_ap50", "iou_ap", "iou_ap50", "neg_loss")
# Other readings of one proxy run, fixed before the architectures of fidelity --sample-seed 3
# were trained. On the seed-2 sample the strict-threshold scores ranked the long runs (all
# validation images) better than GPS AP in each of the five proxy variants (variants
# --images 2000), but they were picked there out of ~60 scores; another sample of
# architectures says whether that holds (bench/reports/proxy_variants_2000img.json).
ALTERNATIVE_SCORES = ("gps_ap", "iou_ap75", "gpsm_ap75", "gps_ap75", "gt_gps_ap", "gt_gpsm_ap75", "gt_iou_ap75")


def as_now(value: Any) -> Any:
    """A report's value as recorded now: a training config (a dict with a ``budget``)
    recorded before a setting existed had that setting's neutral value; anything else
    is returned as it is."""
    return as_recorded_now(value) if isinstance(value, dict) and "budget" in value else value


def long_reference(report: Mapping[str, Any]) -> tuple[list[str], dict[str, float], str]:
    """The fidelity report's architectures, the long GPS AP a proxy is ranked against, and
    what that reference is: scored on all validation images where every long run has that
    score (an 80-image score moves by a std of ~1.8 points between slices), else on the
    proxy's."""
    archs, long, whole = report["archs"], report["long"], report.get("long_val", {})
    if all("all" in whole.get(a, {}) for a in long):
        return archs, {a: whole[a]["all"] for a in long}, "10x GPS AP on all validation images"
    return archs, long, "10x GPS AP on the proxy's validation images"


def fidelity_summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report's figures over the architectures with both a proxy and a long score:
    Kendall tau and Spearman between them and the spread of each (two or more), the tau
    against the long runs scored on all / the other validation images, the long runs'
    redraws (:func:`redraw_summary`, :func:`seed_redraw_all_val_summary`), other scores of
    the proxy runs (:func:`alternative_scores_summary`), and the long scores' seed-to-seed
    change on the proxy's images. A figure without enough architectures is left out."""
    from scipy import stats

    archs, proxy, long, again = report["archs"], report["proxy"], report["long"], report.get("long_seed1", {})
    both = [a for a in archs if a in proxy and a in long]
    summary: dict[str, Any] = {}
    if len(both) >= 2:
        a, b = [proxy[x] for x in both], [long[x] for x in both]
        summary = {"kendall_tau": kendall_tau(a, b), "spearman": stats.spearmanr(a, b).statistic,
                   "kendall_tau_over": len(both), "proxy_spread": max(a) - min(a), "long_spread": max(b) - min(b)}
    scored = report.get("long_val", {})
    for part in ("all", "rest"):
        held = [a for a in both if part in scored.get(a, {})]
        if len(held) >= 2:
            tau = kendall_tau([proxy[a] for a in held], [scored[a][part] for a in held])
            spread = max(scored[a][part] for a in held) - min(scored[a][part] for a in held)
            summary[f"kendall_tau_long_{part}_val"] = {"tau": tau, "over": len(held), "long_spread": spread}
    summary.update(redraw_summary(report, both))
    summary.update(seed_redraw_all_val_summary(report, both))
    summary.update(alternative_scores_summary(report, both))
    repeated = [a for a in both if a in again]
    first, second, short = ([scores[a] for a in repeated] for scores in (long, again, proxy))
    if repeated:
        diffs = [abs(x - y) for x, y in zip(first, second)]
        summary["long_seed_abs_difference"] = {"median": statistics.median(diffs), "max": max(diffs), "over": len(repeated)}
    if len(repeated) >= 3:
        # The best any proxy can do is to be another long training: how well a second seed's
        # long run ranks the first is the ceiling of the tau above on this data.
        draws = two_draws(first, second, short, first_name="seed0")
        summary["long_seed_kendall_tau"] = draws["kendall_tau_between_draws"]
        summary["proxy_kendall_tau_on_repeated"] = draws["proxy_kendall_tau_vs_seed0"]
        summary["proxy_kendall_tau_vs_seed_mean"] = draws["proxy_kendall_tau_vs_draw_mean"]
    return summary


def alternative_scores_summary(report: Mapping[str, Any], both: Sequence[str]) -> dict[str, Any]:
    """Kendall tau of other scores of the same proxy runs (ALTERNATIVE_SCORES, those every
    ranked architecture has) against the long GPS AP of :func:`long_reference`, over the
    architectures of ``both`` with recorded proxy metrics (three or more)."""
    held = report.get("proxy_metrics", {})
    _, long, _ = long_reference(report)
    ranked = [a for a in both if a in held]
    if len(ranked) < 3:
        return {}
    truth = [long[a] for a in ranked]
    taus = {score: defined(float(kendall_tau([held[a][score] for a in ranked], truth)))
            for score in ALTERNATIVE_SCORES if all(score in held[a] for a in ranked)}
    return {"alternative_scores_kendall_tau": {"over": len(ranked), "tau": taus}}


def redraw_summary(report: Mapping[str, Any], both: Sequence[str]) -> dict[str, Any]:
    """How far a long training trained again (same seed and images, another machine's float
    sums) lands from its earlier draw, on the proxy's validation images (:func:`two_draws`,
    the first draw named ``earlier``), over the architectures of ``both`` with an earlier
    draw (three or more)."""
    earlier, long, proxy = report.get("long_earlier", {}), report["long"], report["proxy"]
    redrawn = [a for a in both if a in earlier]
    if len(redrawn) < 3:
        return {}
    return {"long_redraw": two_draws(*([scores[a] for a in redrawn] for scores in (earlier, long, proxy)), first_name="earlier")}


def seed_redraw_all_val_summary(report: Mapping[str, Any], both: Sequence[str]) -> dict[str, Any]:
    """The long trainings at seed 0 against those at seed 1, each final model scored on all
    validation images (:func:`two_draws`, the first draw named ``seed0``): the seeds' noise
    without the 80-image score's own; over the architectures of ``both`` with both (three
    or more)."""
    seed0, seed1, proxy = report.get("long_val", {}), report.get("long_seed1_val", {}), report["proxy"]
    held = [a for a in both if "all" in seed0.get(a, {}) and "all" in seed1.get(a, {})]
    if len(held) < 3:
        return {}
    return {"long_seed_all_val": two_draws([seed0[a]["all"] for a in held], [seed1[a]["all"] for a in held],
                                           [proxy[a] for a in held], first_name="seed0")}


def score_taus(metrics: Mapping[str, Mapping[str, float]], long: Mapping[str, float], archs: Sequence[str],
               scores: Sequence[str]) -> dict[str, float | None]:
    """Kendall tau of each of ``scores`` of a proxy variant's runs (``metrics``: per
    architecture, its final scores; ``neg_loss`` is the negated ``loss``) against the long
    GPS AP ``long``, over ``archs``; None where undefined (a score the same for all)."""
    truth = [long[a] for a in archs]
    return {score: defined(float(kendall_tau([-metrics[a]["loss"] if score == "neg_loss" else metrics[a][score] for a in archs], truth)))
            for score in scores}


def taus_between_variants(variants: Mapping[str, Mapping[str, Any]], archs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """GPS AP Kendall tau between every two proxy variants (``variants``: name -> a record
    with ``metrics`` per architecture), over the architectures of ``archs`` both trained
    (three or more), keyed ``"first vs second"`` in the variants' order."""
    between = {}
    names = list(variants)
    for k, first in enumerate(names):
        for second in names[k + 1:]:
            a, b = variants[first]["metrics"], variants[second]["metrics"]
            common = [x for x in archs if x in a and x in b]
            if len(common) >= 3:
                tau = float(kendall_tau([a[x]["gps_ap"] for x in common], [b[x]["gps_ap"] for x in common]))
                between[f"{first} vs {second}"] = {"tau": defined(tau), "over": len(common)}
    return between
