"""Static plot of a run's front (PNG, matplotlib): every finished trial, the front as a
staircase, the baselines as labelled stars."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from nas.io import atomic_write_bytes
from nas.pareto.analysis import ParetoReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_png"]


def plot_png(report: ParetoReport, path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    others = [p for p in report.points if p not in report.front]
    ax.scatter([p.cost for p in others], [p.gps_ap for p in others], s=18, color="#9aa5b1", label=f"searched ({len(report.points)} finished)", zorder=2)
    if report.front:
        xs, ys = [], []
        for p in report.front:  # staircase: a front point holds its AP until the next, costlier one
            if xs:
                xs.append(p.cost)
                ys.append(ys[-1])
            xs.append(p.cost)
            ys.append(p.gps_ap)
        ax.plot(xs, ys, color="#d62728", linewidth=1.5, zorder=3)
        ax.scatter([p.cost for p in report.front], [p.gps_ap for p in report.front], s=40, color="#d62728",
                   edgecolor="black", linewidth=0.5, label=f"Pareto front ({len(report.front)})", zorder=4)
    for p in report.baselines:
        ax.scatter([p.cost], [p.gps_ap], s=160, marker="*", color="#1f77b4", edgecolor="black", linewidth=0.5, zorder=5)
    if report.baselines:
        ax.scatter([], [], s=160, marker="*", color="#1f77b4", edgecolor="black", linewidth=0.5, label="baselines")
    shown = [p.cost for p in report.points + report.baselines]
    if shown:  # room on the right for the labels of the costliest points
        ax.set_xlim(0, max(shown) * 1.12)
    _label_baselines(ax, report)
    excluded = ", ".join(f"{n} {k}" for k, n in sorted(report.excluded.items()))
    ax.set_xlabel(report.cost_label + ("  [" + report.device + "]" if report.device and report.axis == "latency" else ""))
    ax.set_ylabel("GPS AP (%) after the proxy training")
    ax.set_title(f"{Path(report.run).name}: hypervolume {report.hypervolume:.4g} (ref AP 0, {report.reference[1]:.4g})"
                 + (f"\nnot placed: {excluded}" if excluded else ""), fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


LABEL_STEP_PT = 11.0  # one line of 9-pt text, with a little air
LABEL_WIDTH_PT = 110.0  # about the width of "densesqueeze (beaten)" in 9-pt text


def _label_baselines(ax: Axes, report: ParetoReport) -> None:
    """Name each baseline beside its star; labels of neighbouring baselines (similar latency
    and AP, e.g. densemobile and densesqueeze) are moved apart vertically so none overlaps."""
    ax.autoscale_view()  # the data -> display mapping as it will be drawn
    points_per_pixel = 72.0 / ax.figure.dpi
    placed: list[tuple[float, float]] = []  # label anchors, in points from the figure's corner
    for p in sorted(report.baselines, key=lambda b: -b.gps_ap):
        x, y = (v * points_per_pixel for v in ax.transData.transform((p.cost, p.gps_ap)))
        dy = 6.0
        while any(abs(x - px) < LABEL_WIDTH_PT and abs(y + dy - py) < LABEL_STEP_PT for px, py in placed):
            dy -= LABEL_STEP_PT
        placed.append((x, y + dy))
        ax.annotate(p.baseline + (" (beaten)" if p.dominated_by_front else ""), (p.cost, p.gps_ap),
                    textcoords="offset points", xytext=(6, dy), fontsize=9, color="#1f77b4")
