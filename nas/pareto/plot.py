"""Static plot of a run's front (PNG, matplotlib): every finished trial, the front as a
staircase, the baselines as labelled stars."""

from __future__ import annotations

import io
from pathlib import Path

from nas.io import atomic_write_bytes
from nas.pareto.analysis import ParetoReport

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
        ax.annotate(p.baseline + (" (beaten)" if p.dominated_by_front else ""), (p.cost, p.gps_ap), textcoords="offset points",
                    xytext=(6, 6), fontsize=9, color="#1f77b4")
    if report.baselines:
        ax.scatter([], [], s=160, marker="*", color="#1f77b4", edgecolor="black", linewidth=0.5, label="baselines")
    shown = [p.cost for p in report.points + report.baselines]
    if shown:  # room on the right for the labels of the costliest points
        ax.set_xlim(0, max(shown) * 1.12)
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
