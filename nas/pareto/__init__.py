"""Pareto front of a search run: report, hypervolume, PNG and interactive HTML plots.

Which trials are on the front is the run's data model (:mod:`nas.runs.front`); this
package builds what users read from it."""

from __future__ import annotations

from nas.pareto.analysis import AXES, ParetoReport, Point, analyse
from nas.pareto.html import plot_html
from nas.pareto.hypervolume import hypervolume
from nas.pareto.plot import plot_png
from nas.pareto.summary import front_lines, left_out_note, versus_baseline

__all__ = ["AXES", "ParetoReport", "Point", "analyse", "hypervolume", "front_lines", "left_out_note", "plot_html", "plot_png", "versus_baseline"]
