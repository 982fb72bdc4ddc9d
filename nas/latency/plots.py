"""Validation scatter plot: predicted vs measured end-to-end latency."""

from __future__ import annotations

import textwrap
from pathlib import Path

__all__ = ["scatter_plot"]


def scatter_plot(
    path: str | Path,
    measured: list[float],
    predicted: list[float],
    held_out: list[bool],
    title: str,
) -> None:
    """Write a PNG: one point per architecture (ms), the y = x line and the ±10% band;
    held-out points (scored after the correction fit) filled, fit points hollow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5.0), dpi=120)
    low = 0.9 * min(min(measured), min(predicted))
    high = 1.1 * max(max(measured), max(predicted))
    ax.plot([low, high], [low, high], color="black", linewidth=1, label="y = x")
    ax.fill_between([low, high], [low * 0.9, high * 0.9], [low * 1.1, high * 1.1], color="tab:green", alpha=0.12, label="±10%")
    fit = [(m, p) for m, p, h in zip(measured, predicted, held_out) if not h]
    test = [(m, p) for m, p, h in zip(measured, predicted, held_out) if h]
    if fit:
        ax.scatter(*zip(*fit), facecolors="none", edgecolors="tab:blue", s=24, label=f"fit half ({len(fit)})")
    if test:
        ax.scatter(*zip(*test), color="tab:orange", s=24, label=f"held-out half ({len(test)})")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel("measured end-to-end latency (ms)")
    ax.set_ylabel("predicted latency (ms)")
    # long lines are wrapped to the figure's width (~64 characters at 9 pt)
    ax.set_title("\n".join(textwrap.fill(line, 64) for line in title.splitlines()), fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(path).with_suffix(".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
