"""Speed reference: choice of reference ops, the speed factor by hand, and a profile whose
machine changes speed between chunks still writing the rows it would write at one speed."""

from __future__ import annotations

import math

import pytest

from nas.latency.keys import space_keys
from nas.latency.profile import profile_keys
from nas.latency.runtimes import get_runtime
from nas.latency.speed import SpeedReference, choose_references, speed_factor
from nas.latency.table import LatencyTable
from nas.latency.transports.base import MeasureSettings, Transport


class DriftingMachine(Transport):
    """A device whose ops take a fixed time each (``true_ms``), times a speed factor that
    changes from one measure call to the next (``drift``, cycled). Deterministic, so the
    normalisation is checked exactly; timing noise is the real runtime's business."""

    name = "drifting"

    def __init__(self, true_ms: dict[str, float], drift: list[float]) -> None:
        self.true_ms, self.drift, self.calls = true_ms, drift, 0

    def measure(self, runtime, names, settings):
        factor = self.drift[self.calls % len(self.drift)]
        self.calls += 1
        return {n: [self.true_ms[n] * factor] * settings.rounds for n in names}


def test_choose_references_is_deterministic_and_prefers_distinct_kinds(tiny_space) -> None:
    keys = space_keys(tiny_space)
    refs = choose_references(keys, 4)
    assert refs == choose_references(list(reversed(keys)), 4)  # from the strings, not their order
    assert len(refs) == len(set(refs)) == 4 and set(refs) <= set(keys)
    assert len({r.split("-", 1)[0] for r in refs}) >= 3
    assert choose_references(keys, 0) == []
    assert choose_references(["glue-fpn-c16-l3.5-r1-in:8x8.4x4"], 2) == []  # no shapes: nothing to pick


def test_speed_factor_by_hand() -> None:
    nominal = {"a": 2.0, "b": 4.0}
    assert speed_factor({"a": [3.0, 3.0, 9.0], "b": [6.0]}, nominal) == pytest.approx(1.5)  # medians 3 and 6
    assert speed_factor({"a": [4.0], "b": [2.0]}, nominal) == pytest.approx(1.0)  # x2 and x0.5: geometric mean 1
    assert speed_factor({"a": [2.5]}, nominal) == pytest.approx(1.25)  # a reference not timed is left out
    assert speed_factor({"c": [1.0]}, nominal) == 1.0


def test_measure_divides_by_the_chunk_factor() -> None:
    machine = DriftingMachine({"ref": 2.0, "op": 10.0}, [1.5])
    measured = SpeedReference(["ref"], {"ref": 2.0}).measure(machine, None, ["op"], MeasureSettings(0, 3))
    assert measured.factor == pytest.approx(1.5)
    assert measured.raw == {"op": [15.0] * 3} and measured.samples["op"] == pytest.approx([10.0] * 3)
    assert "ref" not in measured.samples and measured.references == {"ref": pytest.approx(2.0)}


def test_extra_rounds_of_the_first_chunk_compare_with_it() -> None:
    """The first chunk of a table has no nominal yet (factor 1); its extra rounds, timed
    later at another speed, are compared with the references as that chunk timed them."""
    machine = DriftingMachine({"ref": 2.0, "op": 10.0}, [1.0, 1.25])
    speed = SpeedReference(["ref"], {})
    first = speed.measure(machine, None, ["op", "ref"], MeasureSettings(0, 3))
    more = speed.following(first).measure(machine, None, ["op"], MeasureSettings(0, 3))
    assert first.factor == 1.0 and more.factor == pytest.approx(1.25)
    assert more.samples["op"] == pytest.approx(first.samples["op"])


def test_profile_rows_do_not_drift_with_the_machine(tmp_path, tiny_space) -> None:
    keys = space_keys(tiny_space)
    true_ms = {k: 0.1 + i for i, k in enumerate(sorted(keys))}
    refs = choose_references(keys)
    drift = [1.0, 1.3, 0.8, 1.7]
    table = LatencyTable(tmp_path / "t", {"speed_reference": {"keys": refs, "factors": []}})
    runtime = get_runtime("torch", device="cpu", threads=1)
    profile_keys(keys, table, runtime, DriftingMachine(true_ms, drift), MeasureSettings(0, 3), chunk=5, max_extra_rounds=0)
    assert set(table.rows) == set(keys)
    for key in keys:  # every chunk ran at another speed; every row is at the first chunk's
        assert table.rows[key].median_ms == pytest.approx(true_ms[key]), key
    factors = table.meta["speed_reference"]["factors"]
    assert len(factors) == math.ceil(len(keys) / 5) and factors[:4] == pytest.approx(drift)


def test_extra_rounds_are_normalised_too(tmp_path, tiny_space) -> None:
    """Every op is 'unstable' (one sample): each chunk is timed twice, at two speeds."""
    keys = space_keys(tiny_space)
    true_ms = {k: 0.1 + i for i, k in enumerate(sorted(keys))}
    table = LatencyTable(tmp_path / "t", {"speed_reference": {"keys": choose_references(keys), "factors": []}})
    runtime = get_runtime("torch", device="cpu", threads=1)
    profile_keys(keys, table, runtime, DriftingMachine(true_ms, [1.0, 1.4, 0.9]), MeasureSettings(0, 1), chunk=8, max_extra_rounds=1)
    for key in keys:
        assert table.rows[key].median_ms == pytest.approx(true_ms[key]), key


def test_profile_without_references_keeps_the_drift(tmp_path, tiny_space) -> None:
    keys = space_keys(tiny_space)
    true_ms = {k: 1.0 for k in keys}
    table = LatencyTable(tmp_path / "t", {})
    runtime = get_runtime("torch", device="cpu", threads=1)
    profile_keys(keys, table, runtime, DriftingMachine(true_ms, [1.0, 2.0]), MeasureSettings(0, 3), chunk=12, max_extra_rounds=0)
    assert sorted(r.median_ms for r in table.rows.values()) == [1.0] * 12 + [2.0] * 12
