"""Validation: metrics by hand, the correction fitted on one half and scored on the other."""

from __future__ import annotations

import json

import pytest

from nas.latency.fingerprint import differences, fingerprint_id, local_fingerprint
from nas.latency.stats import summarize
from nas.latency.validate import fit_correction, metrics, sample_archs

from .conftest import TINY_SPACE, run_nas


def test_metrics_by_hand() -> None:
    m = metrics([1.0, 2.19, 2.9, 4.5], [1.0, 2.0, 3.0, 4.0])
    # errors 0%, 9.5%, 3.33%, 12.5% -> MAPE 6.33%; within 5%: 2 of 4; within 10%: 3 of 4
    assert m.mape == pytest.approx(100 * (0 + 0.095 + 0.1 / 3 + 0.125) / 4)
    assert (m.within_5, m.within_10) == (0.5, 0.75)
    assert m.spearman == pytest.approx(1.0) and m.kendall == pytest.approx(1.0)


KIND_SUMS = [{"ir": 10.0, "unit": 2.0}, {"ir": 20.0, "unit": 9.0, "dw": 1.0}, {"ir": 30.0, "unit": 3.0}, {"ir": 12.0, "unit": 12.0, "dw": 4.0},
             {"ir": 40.0, "unit": 1.0, "dw": 2.0}]


def test_fit_correction_recovers_per_kind_scales_without_shrinkage() -> None:
    truth = {"ir": 0.8, "unit": 1.1, "dw": 0.5}  # int8-like: kinds fuse differently in a whole network
    measured = [sum(truth[k] * ms for k, ms in sums.items()) for sums in KIND_SUMS]
    c = fit_correction(KIND_SUMS, measured, ridge=0.0)
    # the common scale and the deviations are one degree of freedom apart without a ridge
    assert {k: c["scale"] + d for k, d in c["kind_scales"].items()} == {k: pytest.approx(v) for k, v in truth.items()}


def test_fit_correction_is_relative_and_shrinks_kinds_to_one_scale() -> None:
    # an overwhelming ridge leaves one common scale, fitted on relative errors: the scale a
    # minimising sum((a * s / m - 1)^2) is sum(s / m) / sum((s / m)^2), by hand
    measured = [9.0, 30.0, 26.0, 30.0, 35.0]
    ratios = [sum(sums.values()) / m for sums, m in zip(KIND_SUMS, measured)]
    c = fit_correction(KIND_SUMS, measured, ridge=1e12)
    assert c["scale"] == pytest.approx(sum(ratios) / sum(r * r for r in ratios), rel=1e-6)
    assert all(abs(d) < 1e-6 for d in c["kind_scales"].values())
    # relative: scaling one network's sums and measurement together changes nothing
    scaled = [dict(sums) for sums in KIND_SUMS]
    scaled[4] = {k: 100 * v for k, v in scaled[4].items()}
    same, base = fit_correction(scaled, [*measured[:4], 100 * measured[4]]), fit_correction(KIND_SUMS, measured)
    assert same["scale"] == pytest.approx(base["scale"]) and same["kind_scales"] == pytest.approx(base["kind_scales"])


def test_sample_archs_is_seeded(tiny_space) -> None:
    assert [a.id for a in sample_archs(tiny_space, 8, seed=3)] == [a.id for a in sample_archs(tiny_space, 8, seed=3)]


def test_validate_cli_end_to_end(tmp_path, monkeypatch) -> None:
    out = tmp_path / "table"
    done = run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--out", str(out), "--rounds", "9", "--warmup", "2")
    assert done.returncode == 0, done.stderr
    done = run_nas("latency", "validate", "--table", str(out), "--samples", "8", "--rounds", "9", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["samples"] == 8 and summary["heldout"]["n"] == 4
    for block in (summary["plain_sum"], summary["heldout"]["plain_sum"], summary["heldout"]["corrected"]):
        assert set(block) == {"n", "mape", "within_5", "within_10", "spearman", "kendall"}
    report = json.loads((out / "validation.json").read_text())
    halves = [row["half"] for row in report["rows"]]
    assert halves.count("fit") == 4 and halves.count("heldout") == 4  # disjoint halves
    # two passes by default: each row keeps both passes' samples; the value compared is the
    # summary of all of them together, each pass's own value the summary of its samples
    assert report["passes"] == 2 and set(report["repeatability"]) == set(summary["plain_sum"])
    for row in report["rows"]:
        assert len(row["samples_ms"]) == 2 and all(len(s) >= 9 for s in row["samples_ms"])
        assert row["measured_ms"] == pytest.approx(summarize(row["samples_ms"][0] + row["samples_ms"][1]).median_ms)
        assert row["pass_ms"] == pytest.approx([summarize(s).median_ms for s in row["samples_ms"]])
    # the table's reference ops were timed with every chunk: each row's raw median is its
    # samples times its chunk's speed factor, and the report scores predictions against both
    meta = json.loads((out / "meta.json").read_text())
    refs = meta["speed_reference"]["keys"]
    assert len(refs) == 4 and report["speed_reference"]["keys"] == refs
    factors = meta["speed_reference"]["factors"]  # one chunk, then extra rounds for unstable ops
    assert factors[0] == 1.0 and 1 <= len(factors) <= 2  # the first chunk defines the nominal speed
    for row in report["rows"]:
        raw = [t * f for samples, f in zip(row["samples_ms"], row["pass_factor"]) for t in samples]
        assert row["raw_measured_ms"] == pytest.approx(summarize(raw).median_ms)
        assert all(0.2 < f < 5 for f in row["pass_factor"])
    assert set(report["raw_measured"]) == set(summary["plain_sum"])
    assert (out / "validation.png").stat().st_size > 10_000
    assert ("correction" in meta) == report["correction"]["kept"]
    _failing_validation_leaves_the_table(out, monkeypatch)
    # the table records the device it was timed on; validating it on another is refused,
    # and --other-device measures the transfer apart without touching the table
    assert report["other_device"] == [] and report["table_device"] == meta["device_fingerprint"]
    assert differences(meta["device_fingerprint"], local_fingerprint("cpu")) == []
    meta["device_fingerprint"] = {**meta["device_fingerprint"], "family": "99"}
    (out / "meta.json").write_text(json.dumps(meta))
    stored = (out / "meta.json").read_bytes()
    done = run_nas("latency", "validate", "--table", str(out), "--samples", "4", "--rounds", "3")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "family '99' vs" in done.stderr and "--other-device" in done.stderr
    done = run_nas("latency", "validate", "--table", str(out), "--samples", "4", "--rounds", "3", "--other-device")
    assert done.returncode == 0, done.stderr
    folder = out / "other-devices" / fingerprint_id(local_fingerprint("cpu"))
    other = json.loads((folder / "validation.json").read_text())
    assert other["samples"] == 4 and other["other_device"] == [f"family '99' vs {local_fingerprint('cpu')['family']!r}"]
    assert (folder / "validation.png").is_file() and "no correction stored" in done.stdout
    assert (out / "meta.json").read_bytes() == stored  # no correction fitted on another device
    assert json.loads((out / "validation.json").read_text()) == report  # the table's own report kept


def _failing_validation_leaves_the_table(table_dir, monkeypatch) -> None:
    """A validation that fails on its way (here: writing its plot) changes nothing of the table."""
    from nas.latency import plots
    from nas.latency.runtimes import get_runtime
    from nas.latency.table import LatencyTable
    from nas.latency.transports import MeasureSettings, make_transport
    from nas.latency.validate import validate_table
    from nas.space.search_space import SearchSpace

    before = {name: (table_dir / name).read_bytes() for name in ("meta.json", "table.csv", "validation.json")}

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plots, "scatter_plot", disk_full)
    with pytest.raises(OSError, match="No space left"):
        validate_table(LatencyTable.load(table_dir), SearchSpace.from_yaml(TINY_SPACE), get_runtime("torch", device="cpu", threads=1),
                       make_transport(None), MeasureSettings(1, 3), samples=4, passes=1)
    assert {name: (table_dir / name).read_bytes() for name in before} == before


def test_too_few_samples_is_refused_before_anything_runs(tmp_path) -> None:
    import shutil

    from nas.shipped import DEFAULT_TABLE, shipped

    table = tmp_path / "table"
    shutil.copytree(shipped(DEFAULT_TABLE), table)
    before = {p.name: p.read_bytes() for p in table.iterdir() if p.is_file()}
    done = run_nas("latency", "validate", "--table", str(table), "--samples", "1")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--samples must be at least 4" in done.stderr
    assert {p.name: p.read_bytes() for p in table.iterdir() if p.is_file()} == before


def test_another_space_is_refused_before_anything_runs(tmp_path) -> None:
    """The shipped table covers the default space only: validating it on another space
    names the spaces (it said the table lacked ops of the first sampled architecture)."""
    import shutil

    from nas.shipped import DEFAULT_TABLE, shipped

    table = tmp_path / "table"
    shutil.copytree(shipped(DEFAULT_TABLE), table)
    before = {p.name: p.read_bytes() for p in table.iterdir() if p.is_file()}
    done = run_nas("latency", "validate", "--table", str(table), "--space", str(TINY_SPACE), "--samples", "4")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "was profiled for densepose_mobile" in done.stderr and "not for tiny_latency" in done.stderr, done.stderr
    assert {p.name: p.read_bytes() for p in table.iterdir() if p.is_file()} == before


def test_report_parts_by_hand() -> None:
    from nas.latency.validate import Correction, SpeedFactors

    correction = Correction(scale=0.8, kind_scales={"ir": 0.1, "unit": -0.2}, kept=True)
    assert correction.apply({"ir": 10.0, "unit": 5.0, "dw": 2.0}) == pytest.approx(0.9 * 10 + 0.6 * 5 + 0.8 * 2)
    assert list(correction.to_dict()) == ["scale", "kind_scales", "kept"]  # validation.json's order
    assert SpeedFactors(["k"], [[0.98, 1.01], [1.03]]).span == (0.98, 1.03)
