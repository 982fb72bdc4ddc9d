"""Per-op latency: op keys, runtimes, transports, tables, prediction and validation.

Public API::

    from nas.latency import LatencyTable, op_keys
    table = LatencyTable.load("latency_tables/cpu-executorch-xnnpack-t1")
    table.predict(arch).latency_ms      # with .breakdown; table.predict_ms(arch) is the fast path

Modules: :mod:`~nas.latency.opkinds` (key formats, rebuilding modules from keys),
:mod:`~nas.latency.keys` (op providers per part, keys of an architecture or a space),
:mod:`~nas.latency.units` (neck conv units), :mod:`~nas.latency.programs` (.pte cache),
:mod:`~nas.latency.quantize` (the int8 pass before lowering), :mod:`~nas.latency.compare`
(two tables' cost ratios per op kind),
:mod:`~nas.latency.runtimes` and :mod:`~nas.latency.transports` (registries),
:mod:`~nas.latency.runner` (the benchmark runner, also pushed to devices),
:mod:`~nas.latency.parsers`, :mod:`~nas.latency.stats`, :mod:`~nas.latency.table`,
:mod:`~nas.latency.profile`, :mod:`~nas.latency.validate`, :mod:`~nas.latency.plots`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nas._lazy import lazy_exports

if TYPE_CHECKING:
    from nas.latency.keys import DEFAULT_ROIS, KeyContext, Op, SpaceContext, arch_ops, op_keys, register_op_provider, space_keys
    from nas.latency.opkinds import BuiltOp, build_op, register_op_kind
    from nas.latency.table import LatencyTable, Prediction

# imported on first use: the keys and tables import torch, the device runner must not
_EXPORTS = {
    **dict.fromkeys(("DEFAULT_ROIS", "KeyContext", "Op", "SpaceContext", "arch_ops", "op_keys", "register_op_provider", "space_keys"), "nas.latency.keys"),
    **dict.fromkeys(("BuiltOp", "build_op", "register_op_kind"), "nas.latency.opkinds"),
    **dict.fromkeys(("LatencyTable", "Prediction"), "nas.latency.table"),
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
