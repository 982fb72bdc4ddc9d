"""``nas profile --adapt-from``: the design, the transform, a synthetic new device, refusals."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from pathlib import Path

import pytest

from nas.errors import TableError
from nas.latency.adapt import ADAPT_NETWORKS, MIN_SLOPE_OPS, adapt_design, adapt_space, calibrate, calibration_archs, fit_transform, key_terms
from nas.latency.heads import DENSE_PREFIX, dense_program
from nas.latency.keys import op_keys, space_keys
from nas.latency.opkinds import key_kind
from nas.latency.profile import KeySelection, profile_space
from nas.latency.runner import TimedFn
from nas.latency.runtimes.base import LatencyRuntime
from nas.latency.synthetic import write_synthetic_table
from nas.latency.table import LatencyTable
from nas.latency.transports.local import LocalTransport
from nas.latency.transports.base import MeasureSettings
from nas.latency.usage import by_weight, op_usage
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec

from .conftest import HERE, TINY_SPACE, run_nas

FILL_SPACE = HERE / "fill_space.yaml"  # 112 inverted residuals, 18 ops of 7 other kinds
SETTINGS = MeasureSettings(warmup=1, rounds=3)
# the synthetic new device: per kind, new ms = exp(a) * source ms ** b
TRUTH = {"ir": (0.3, 0.8), "unit": (-0.2, 1.2)}
OTHER_KINDS = (0.5, 1.0)  # every other kind: its own offset (a + 0.1 x its rank), this slope
NETWORK_RATIO = 0.9  # a whole network runs in this share of its ops' summed time


def _transform(kind: str) -> tuple[float, float]:
    if kind in TRUTH:
        return TRUTH[kind]
    rank = sorted(("boxhead", "dphead", "dw", "fire", "glue", "mix", "res", "rpn", "stem")).index(kind)
    return OTHER_KINDS[0] + 0.1 * rank, OTHER_KINDS[1]


class TransformedDevice(LatencyRuntime):
    """A device whose every op takes a known per-kind transform of the source table's row
    and a whole network :data:`NETWORK_RATIO` of its ops' sum (returned as the run's
    duration, after sleeping ``sleep_ms`` of real time)."""

    name = "transformed"

    def __init__(self, source: LatencyTable, sleep_ms: float = 0.0) -> None:
        super().__init__()
        self.source, self.sleep_ms = source, sleep_ms

    def truth(self, key: str) -> float:
        if key.startswith(DENSE_PREFIX):
            rois, arch = key.removeprefix(DENSE_PREFIX).split(":", 1)
            return NETWORK_RATIO * sum(self.truth(k) for k in op_keys(ArchSpec.from_string(arch), int(rois.removeprefix("r"))))
        a, b = _transform(key_kind(key))
        return math.exp(a) * self.source.rows[key].median_ms ** b

    def timers(self, names: list[str]) -> dict[str, TimedFn]:
        def timer(ms: float) -> TimedFn:
            def run() -> float:
                if self.sleep_ms:
                    time.sleep(self.sleep_ms / 1000)
                return ms
            return run

        return {n: timer(self.truth(n)) for n in names}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> LatencyTable:
    path = tmp_path_factory.mktemp("source") / "table"
    return LatencyTable.load(write_synthetic_table(path, FILL_SPACE, baselines=()))


def _adapt(source: LatencyTable, out: Path, limit: int | None = 40, budget: float = 10.0, sleep_ms: float = 0.0):
    device = TransformedDevice(source, sleep_ms)
    return device, adapt_space(FILL_SPACE, source.path, out, device, LocalTransport(), SETTINGS, budget, baselines=(), limit=limit)


def test_design_spreads_every_prefix_over_kinds_and_sizes(source) -> None:
    ms = {k: r.median_ms for k, r in source.rows.items()}
    design = adapt_design(ms)
    assert sorted(design) == sorted(ms) and design == adapt_design(ms)
    kinds = Counter(key_kind(k) for k in ms)
    first = design[: sum(min(2, n) for n in kinds.values())]  # every kind's first two before any kind's third...
    assert {key_kind(k) for k in first} == set(kinds)
    assert all(n <= 2 for n in Counter(key_kind(k) for k in first).values())
    ir = sorted((k for k in ms if key_kind(k) == "ir"), key=lambda k: (ms[k], k))
    assert {design[i] for i in range(len(design)) if key_kind(design[i]) == "ir"} and ir[0] in first and ir[-1] in first  # ...its smallest and largest
    prefix = Counter(key_kind(k) for k in design[:40])
    assert prefix["ir"] > prefix["unit"] > prefix["rpn"]  # then about sqrt(ops) of each kind: 112 ir, 10 units, 3 rpn


def test_design_by_use_puts_the_heaviest_ops_first_after_the_first_round(source) -> None:
    ms = {k: r.median_ms for k, r in source.rows.items()}
    spread = adapt_design(ms)
    first = 2 * len({key_kind(k) for k in ms})
    light = [k for k in spread[first:] if key_kind(k) == "ir"][-1]  # the spread order's last ir op...
    usage = {k: 1.0 for k in ms} | {light: 1e6}  # ...used a million times per network
    design = adapt_design(ms, usage)
    assert sorted(design) == sorted(ms) and design[:first] == spread[:first]
    assert design[first] == spread[first] and design[first + 1] == light  # every 3rd from the spread order, the others by use
    by_use = [k for i, k in enumerate(design) if i > first and (i - first) % 3 != 0]
    weight = [usage[k] * ms[k] for k in by_use]
    assert weight[:20] == sorted(weight[:20], reverse=True)


def test_op_usage_counts_each_key_per_sampled_network() -> None:
    space = SearchSpace.from_yaml(TINY_SPACE)
    usage = op_usage(space, draws=12, seed=3)
    assert set(usage) <= set(space_keys(space))
    stems = [k for k in usage if key_kind(k) == "stem"]
    assert len(stems) == 1 and usage[stems[0]] == pytest.approx(1.0)  # one stem choice: once in every network
    again = op_usage(space, draws=12, seed=3)
    assert again == usage and op_usage(space, draws=12, seed=4) != usage
    from nas.latency.validate import sample_archs

    per_network = [len(op_keys(a)) for a in sample_archs(space, 12, 3)]
    assert sum(usage.values()) == pytest.approx(sum(per_network) / 12)


def test_key_terms_drop_channels_and_keep_parameters() -> None:
    assert key_terms("ir-in:64x48x24-out:32x24x40-s2-e6-k5-relu-se0") == ["ir:in64x48", "ir:out32x24", "ir:s2", "ir:e6", "ir:k5", "ir:relu", "ir:se0"]
    assert key_terms("unit-in:32x24x64-out:32x24x64-c64k3s1p1g64.bn.relu") == ["unit:in32x24", "unit:out32x24", "unit:ck3s1p1gN", "unit:bn", "unit:relu"]


def test_fit_recovers_per_kind_lines_and_pools_thin_kinds() -> None:
    source = {f"ir-{i}": 0.1 * (i + 1) for i in range(30)} | {f"dw-{i}": 0.05 * (i + 1) for i in range(3)} | {"stem-0": 2.0}
    new = {k: (2.0 * v**0.7 if k.startswith("ir") else 3.0 * v) for k, v in source.items()}
    measured = {k: new[k] for k in [*(f"ir-{i}" for i in range(0, 30, 3)), "dw-0"]}
    fit = fit_transform(source, measured)
    assert set(fit.rows) == set(source) - set(measured)
    for key in (f"ir-{i}" for i in range(30)):
        if key in fit.rows:
            assert fit.rows[key] == pytest.approx(new[key], rel=1e-6), key
    assert fit.kinds["ir"]["slope"] == "own" and fit.kinds["ir"]["b"] == pytest.approx(0.7, abs=1e-5)
    # one measured dw op: its own offset on the pooled slope (the centre of the kinds' lines), so it misses the truth (slope 1)
    pooled_b = fit.kinds["stem"]["b"]  # no stem op measured: the pooled line itself
    assert fit.kinds["dw"]["slope"] == "pooled" and fit.kinds["dw"]["measured"] == 1 and fit.kinds["dw"]["b"] == pytest.approx(pooled_b, abs=1e-4)
    assert 0.7 < pooled_b < 1.0
    assert fit.rows["dw-1"] == pytest.approx(new["dw-0"] * 2.0**pooled_b, rel=1e-3) and fit.rows["dw-1"] != pytest.approx(new["dw-1"], rel=0.02)
    assert fit.kinds["stem"]["measured"] == 0 and fit.rows["stem-0"] == pytest.approx(math.exp(fit.kinds["stem"]["a"]) * 2.0**pooled_b, rel=1e-4)
    with pytest.raises(TableError, match="no op is measured"):
        fit_transform(source, {})


def test_adaptation_recovers_a_transformed_device_exactly(source, tmp_path) -> None:
    device, report = _adapt(source, tmp_path / "new")
    keys = space_keys(SearchSpace.from_yaml(FILL_SPACE))
    table = LatencyTable.load(tmp_path / "new")
    assert report.measured == len(table) == 40 and report.adapted == len(table.fitted) == len(keys) - 40
    assert set(table.rows) | set(table.fitted) == set(keys)
    kinds = table.meta["fill"]["kinds"]
    assert kinds["ir"]["measured"] >= MIN_SLOPE_OPS and kinds["unit"]["measured"] >= MIN_SLOPE_OPS
    assert all(k["measured"] >= 1 for k in kinds.values())
    for key, ms in table.fitted.items():
        assert ms == pytest.approx(device.truth(key), rel=1e-5, abs=1e-6), key  # the files keep 6 decimals (ms)
    for key, row in table.rows.items():
        assert row.median_ms == pytest.approx(device.truth(key), rel=1e-5, abs=1e-6)
    assert kinds["ir"]["b"] == pytest.approx(0.8, abs=1e-4) and kinds["unit"]["b"] == pytest.approx(1.2, abs=1e-4)
    assert table.meta["fill"]["method"] == "adapt" and table.meta["fill"]["source"] == str(source.path)
    assert table.meta["runtime"] == "transformed" and table.fitted_by == "adapt"
    # the calibration networks: measured once, after the reference ops, within the budget
    networks = table.meta["fill"]["networks"]
    assert [n["arch"] for n in networks] == [a.to_string() for a in calibration_archs(SearchSpace.from_yaml(FILL_SPACE))] and len(networks) == ADAPT_NETWORKS
    assert [c.get("networks") for c in table.meta["fill"]["chunks"]][:3] == [None, ADAPT_NETWORKS, None]
    correction = table.meta["correction"]
    assert correction["scale"] == pytest.approx(NETWORK_RATIO, rel=1e-4) and all(abs(v) < 1e-4 for v in correction["kind_scales"].values())
    arch = ArchSpec.from_string(networks[0]["arch"])
    assert table.predict(arch).latency_ms == pytest.approx(device.truth(dense_program(arch.to_string(), table.rois)), rel=1e-4)


def test_adaptation_without_networks_stores_no_correction(source, tmp_path) -> None:
    adapt_space(FILL_SPACE, source.path, tmp_path / "new", TransformedDevice(source), LocalTransport(), SETTINGS, 10.0, baselines=(), limit=20, networks=0)
    table = LatencyTable.load(tmp_path / "new")
    assert len(table) == 20 and table.meta["fill"]["networks"] == [] and "correction" not in table.meta
    assert calibrate(table, []) is None


def test_adapted_rows_are_flagged_then_measured_by_a_plain_profile(source, tmp_path) -> None:
    device, _ = _adapt(source, tmp_path / "new")
    table = LatencyTable.load(tmp_path / "new")
    space = SearchSpace.from_yaml(FILL_SPACE)
    arch = next(a for a in (space.sample(s) for s in range(50)) if set(op_keys(a)) & set(table.fitted))
    prediction = table.predict(arch)
    assert prediction.fitted and prediction.fitted <= set(table.fitted) and prediction.fitted_by == "adapt"
    as_json = prediction.to_dict()
    assert as_json["fitted_by"] == "adapt" and any(b["fitted"] for b in as_json["breakdown"])
    shown = run_nas("latency", "predict", "--table", str(tmp_path / "new"), arch.to_string())
    assert shown.returncode == 0, shown.stderr
    assert "(adapted)" in shown.stdout and "nas profile --adapt-from" in shown.stdout
    measured_before = dict(table.rows)
    report = profile_space(FILL_SPACE, tmp_path / "new", device, LocalTransport(), SETTINGS, baselines=())
    assert report.measured == len(table.fitted)
    after = LatencyTable.load(tmp_path / "new")
    assert not after.fitted and not (tmp_path / "new" / "fitted.csv").exists() and "fill" not in after.meta
    assert set(after.rows) == set(space_keys(space)) and all(after.rows[k] == v for k, v in measured_before.items())
    # (rel 1e-4: the speed factor against reference rows read back with 6 decimals is 1 within that)
    assert all(r.median_ms == pytest.approx(device.truth(k), rel=1e-4, abs=1e-6) for k, r in after.rows.items())


def test_completing_an_adapted_table_in_parts_measures_the_heaviest_ops_first(source, tmp_path) -> None:
    device, _ = _adapt(source, tmp_path / "new", limit=20)
    before = LatencyTable.load(tmp_path / "new")
    heaviest = by_weight(list(before.fitted), op_usage(SearchSpace.from_yaml(FILL_SPACE)), before.fitted)[:10]
    profile_space(FILL_SPACE, tmp_path / "new", device, LocalTransport(), SETTINGS, KeySelection(limit=10), baselines=())
    after = LatencyTable.load(tmp_path / "new")
    assert set(after.rows) - set(before.rows) == set(heaviest)
    weight = {k: before.fitted[k] * n for k, n in op_usage(SearchSpace.from_yaml(FILL_SPACE)).items() if k in before.fitted}
    assert min(weight.get(k, 0.0) for k in heaviest) >= max(w for k, w in weight.items() if k not in heaviest)


def test_budget_stops_measuring_and_a_rerun_resumes_within_it(source, tmp_path) -> None:
    budget_s = 0.5
    # every run sleeps 5 ms: a 16-op chunk (+ 4 reference ops, 4 runs each) takes about 0.4 s
    _, first = _adapt(source, tmp_path / "new", limit=None, budget=budget_s / 60, sleep_ms=5.0)
    chunks = LatencyTable.load(tmp_path / "new").meta["fill"]["chunks"]
    assert 0 < first.measured < 130 and first.spent_s >= budget_s
    assert chunks[-1]["spent_s"] >= budget_s and all(c["spent_s"] < budget_s for c in chunks[:-1])  # stopped once spent
    _, again = _adapt(source, tmp_path / "new", limit=None, budget=budget_s / 60, sleep_ms=5.0)
    assert again.measured_now == 0 and again.measured == first.measured and again.adapted == first.adapted  # the budget is spent
    _, more = _adapt(source, tmp_path / "new", limit=None, budget=2 * budget_s / 60, sleep_ms=5.0)
    assert more.measured > first.measured and more.spent_s >= 2 * budget_s  # a larger budget goes on from there


def _cli(tmp_path: Path, source: Path, *extra: str, space: Path = FILL_SPACE):
    return run_nas("profile", "--baseline", "none", "--space", str(space), "--runtime", "torch", "--out", str(tmp_path / "new"),
                   "--adapt-from", str(source), *extra)


def _refused(done, words: str, tmp_path: Path) -> None:
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "new").exists()


def test_a_source_of_another_space_is_refused(source, tmp_path) -> None:
    _refused(_cli(tmp_path, source.path, space=TINY_SPACE), "was profiled for fill_latency", tmp_path)


@pytest.mark.parametrize("budget", ["0", "-1"])
def test_a_budget_that_measures_nothing_is_refused(source, tmp_path, budget: str) -> None:
    _refused(_cli(tmp_path, source.path, "--budget-minutes", budget), "--budget-minutes must be a positive number", tmp_path)


def test_an_incomplete_source_is_refused(source, tmp_path) -> None:
    partial = tmp_path / "partial"
    table = LatencyTable(partial, dict(source.meta), {k: r for k, r in list(source.rows.items())[5:]})
    table.save()
    _refused(_cli(tmp_path, partial), "is not complete: 5 of the space's 130 ops are not measured", tmp_path)


def test_a_source_of_another_dtype_is_refused(source, tmp_path) -> None:
    int8 = tmp_path / "int8"
    LatencyTable(int8, {**source.meta, "dtype": "int8"}, dict(source.rows)).save()
    _refused(_cli(tmp_path, int8), "holds int8 latencies and this profile measures fp32", tmp_path)


def test_adapt_with_fill_or_a_budget_alone_is_refused(source, tmp_path) -> None:
    _refused(_cli(tmp_path, source.path, "--fill"), "--adapt-from and --fill choose the ops", tmp_path)
    alone = run_nas("profile", "--baseline", "none", "--space", str(FILL_SPACE), "--runtime", "torch", "--out", str(tmp_path / "new"), "--budget-minutes", "3")
    _refused(alone, "pass them with --adapt-from TABLE", tmp_path)
    alone = run_nas("profile", "--baseline", "none", "--space", str(FILL_SPACE), "--runtime", "torch", "--out", str(tmp_path / "new"), "--networks", "3")
    _refused(alone, "pass them with --adapt-from TABLE", tmp_path)
    assert json.loads((source.path / "meta.json").read_text())["space"]["name"] == "fill_latency"  # the source is left as it was
