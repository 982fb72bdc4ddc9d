"""Pareto front of a search run: computation, hypervolume, PNG and interactive HTML plots."""

from __future__ import annotations

from nas.pareto.analysis import AXES, ParetoReport, Point, analyse
from nas.pareto.front import dominates, front_indices, hypervolume
from nas.pareto.html import plot_html
from nas.pareto.plot import plot_png
from nas.pareto.summary import front_lines, versus_baseline

__all__ = ["AXES", "ParetoReport", "Point", "analyse", "dominates", "front_indices", "hypervolume", "front_lines", "plot_html", "plot_png", "versus_baseline"]
