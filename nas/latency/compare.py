"""Two tables of one space side by side: how each op kind's cost changes between them.

Used to compare dtypes on one device (an int8 table against an fp32 one: quantization
speeds convolutions up several times but leaves squeeze-excite, hard-swish and resizes
nearly as they were) or one dtype on two devices. Only ops measured in both tables count:
a fitted row (``nas profile --fill``) is a model's guess, not a cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nas.errors import TableError
from nas.latency.opkinds import key_kind
from nas.latency.table import LatencyTable

__all__ = ["KindRatio", "kind_ratios", "table_ratios"]


@dataclass(frozen=True)
class KindRatio:
    """``numerator / denominator`` over the ops of one kind measured in both.

    Attributes:
        ops: ops compared.
        median, p10, p90: the ratio's median and 10th/90th percentiles.
        total: sum of the numerator's ms over the sum of the denominator's (the big ops weigh most).
    """

    ops: int
    median: float
    p10: float
    p90: float
    total: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def kind_ratios(numerator: Mapping[str, float], denominator: Mapping[str, float]) -> dict[str, KindRatio]:
    """Per op kind, the ratio of the two ms of every key in both mappings (kinds sorted)."""
    common = sorted(k for k in numerator.keys() & denominator.keys() if denominator[k] > 0)
    by_kind: dict[str, list[str]] = {}
    for key in common:
        by_kind.setdefault(key_kind(key), []).append(key)
    out = {}
    for kind in sorted(by_kind):
        keys = by_kind[kind]
        ratios = np.array([numerator[k] / denominator[k] for k in keys])
        total = sum(numerator[k] for k in keys) / sum(denominator[k] for k in keys)
        out[kind] = KindRatio(len(keys), float(np.median(ratios)), float(np.percentile(ratios, 10)), float(np.percentile(ratios, 90)), float(total))
    return out


def table_ratios(numerator: LatencyTable, denominator: LatencyTable) -> dict[str, KindRatio]:
    """:func:`kind_ratios` of two tables' measured rows; tables sharing no measured op are refused."""
    ratios = kind_ratios({k: r.median_ms for k, r in numerator.rows.items()}, {k: r.median_ms for k, r in denominator.rows.items()})
    if not ratios:
        raise TableError(f"latency tables {numerator.path} and {denominator.path} share no measured op: profile one space into both")
    return ratios
