"""Machine-speed reference: a few fixed op programs timed alongside every measured chunk.

A shared machine (a cloud VM, a phone that heats up) changes speed over minutes: on this
project's 2-core VMs the same programs measured one minute apart came out 5-25% slower
in the second run, all of them by about the same factor (2026-12-01, 12 ops, 15 rounds
each: median ratio 1.14, ratios 1.05-1.25). A table profiled over half an hour, resumed
another day, and validated later would carry that drift in its rows.

So every chunk of programs is measured together with the table's *reference ops* (a few
of its own keys, interleaved in the same rounds), and the chunk's samples are divided by
the chunk's *speed factor*: the geometric mean over the references of their median in
this chunk divided by their row in the table. The first chunk of a new table measures
the references themselves and defines the table's nominal speed (factor 1). Rows are thus
latencies at the speed the machine had when the table was started; end-to-end validation
divides its measurements by the factor of its own chunks the same way, and also reports
the raw figures and the factors, so the drift itself stays visible.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nas.latency.runtimes.base import LatencyRuntime
from nas.latency.transports.base import MeasureSettings, Transport

__all__ = ["DEFAULT_REFERENCES", "choose_references", "speed_factor", "SpeedReference", "Measured"]

DEFAULT_REFERENCES = 4

# A key's size proxy: output pixels x input channels x output channels (a 1x1 conv's MACs),
# read from its ``in:HxWxC`` and ``out:HxWxC`` fields.
_SHAPES = re.compile(r"-in:(\d+)x(\d+)x(\d+)-out:(\d+)x(\d+)x(\d+)")
# Quantiles of that proxy the references are picked at: mid-to-large ops (about 1-20 ms on
# a phone core or this VM), whose medians are stable, not the sub-0.1 ms ones timer noise
# dominates nor the heaviest, which would lengthen every chunk.
_QUANTILES = (0.6, 0.7, 0.8, 0.9)


def _size(key: str) -> int | None:
    match = _SHAPES.search(key)
    if match is None:
        return None
    _, _, c_in, h, w, c_out = (int(v) for v in match.groups())
    return h * w * c_in * c_out


def choose_references(keys: Sequence[str], count: int = DEFAULT_REFERENCES) -> list[str]:
    """``count`` reference keys among ``keys``, chosen from the key strings alone (the same
    keys give the same references on every machine): blocks and units with shapes, spread
    over the upper-middle of their size range, distinct kinds preferred."""
    if count <= 0:
        return []
    sized = sorted((s, k) for k in dict.fromkeys(keys) if (s := _size(k)) is not None)
    if not sized:
        return []
    quantiles = [_QUANTILES[0] + (_QUANTILES[-1] - _QUANTILES[0]) * i / max(count - 1, 1) for i in range(count)]
    chosen: list[str] = []
    kinds: set[str] = set()
    for q in quantiles:
        centre = min(int(q * len(sized)), len(sized) - 1)
        # the nearest key of a kind not chosen yet within 5% of the ranks, else the nearest
        window = range(max(0, centre - len(sized) // 20), min(len(sized), centre + len(sized) // 20 + 1))
        options = sorted(window, key=lambda i: abs(i - centre))
        fresh = [i for i in options if sized[i][1].split("-", 1)[0] not in kinds and sized[i][1] not in chosen]
        pick = fresh[0] if fresh else next((i for i in options if sized[i][1] not in chosen), None)
        if pick is not None:
            chosen.append(sized[pick][1])
            kinds.add(sized[pick][1].split("-", 1)[0])
    return chosen


def speed_factor(samples: Mapping[str, Sequence[float]], nominal: Mapping[str, float]) -> float:
    """Geometric mean over the references in both ``samples`` and ``nominal`` of
    median(samples) / nominal; 1.0 when there are none (nothing to compare with)."""
    ratios = [statistics.median(samples[k]) / nominal[k] for k in nominal if samples.get(k) and nominal[k] > 0]
    if not ratios:
        return 1.0
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios))


@dataclass(frozen=True)
class Measured:
    """Samples of one chunk.

    Attributes:
        samples: name -> samples in ms at the nominal speed (raw / factor).
        raw: name -> samples in ms as timed.
        factor: the chunk's speed factor (> 1: the machine ran slower than nominal).
        references: reference key -> its median in this chunk at the nominal speed (what a
            later measurement of the same ops, e.g. extra rounds, is compared with).
    """

    samples: dict[str, list[float]]
    raw: dict[str, list[float]]
    factor: float
    references: dict[str, float]


class SpeedReference:
    """Measures chunks together with reference ops and normalises them.

    Args:
        keys: the reference op keys (empty: no normalisation).
        nominal: key -> nominal median ms (the table's rows); references without one
            are measured but give no factor (the first chunk of a new table).
    """

    def __init__(self, keys: Sequence[str], nominal: Mapping[str, float]) -> None:
        self.keys = list(keys)
        self.nominal = {k: float(nominal[k]) for k in self.keys if k in nominal}

    def measure(self, transport: Transport, runtime: LatencyRuntime, names: list[str], settings: MeasureSettings) -> Measured:
        """Time ``names`` interleaved with the references; returns the normalised samples
        of ``names`` only (a reference also among ``names`` is returned too)."""
        extra = [k for k in self.keys if k not in names]
        raw = transport.measure(runtime, [*names, *extra], settings)
        factor = speed_factor(raw, self.nominal)
        kept = {n: raw[n] for n in names}
        references = {k: statistics.median(raw[k]) / factor for k in self.keys if raw.get(k)}
        return Measured({n: [v / factor for v in values] for n, values in kept.items()}, kept, factor, references)

    def following(self, measured: Measured) -> SpeedReference:
        """The reference for a measurement that continues ``measured`` (its extra rounds):
        references without a nominal value take the one ``measured`` found for them."""
        return SpeedReference(self.keys, {**measured.references, **self.nominal})
