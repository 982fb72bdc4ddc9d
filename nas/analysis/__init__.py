"""Statistics of the benchmark reports: how well a proxy ranks architectures, and what
a search's sampler does with the trials it has seen.

The benchmarks under ``bench/`` run the experiments and write their reports; the figures
those reports hold are computed here, with tests, so that a re-analysis of a committed
report gives the same figures whatever script reads it.

- :mod:`nas.analysis.ranking`: rank agreement (Kendall tau) between two scorings, two
  draws of the same trainings, bootstrap intervals, agreement between groups.
- :mod:`nas.analysis.fidelity`: the figures of one proxy fidelity report (proxy against
  a longer training), and of the proxy variants ranked against it.
- :mod:`nas.analysis.pooling`: several fidelity reports ranked together.
- :mod:`nas.analysis.repeatability`: one training under two settings that should not matter.
- :mod:`nas.analysis.efficiency`: a search's hypervolume after each trial.
- :mod:`nas.analysis.tpe`: the trials multi-objective TPE counts as "good".

Layer: above :mod:`nas.pareto` (it reads hypervolumes from it), :mod:`nas.runs`,
:mod:`nas.train` (recorded training settings) and :mod:`nas.space` (a network's neck);
nothing in ``nas`` imports it: benchmarks and tests do.
"""
