"""``nas profile --fill``: op cost features, the measured design, the fitted rows, their file."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from nas.errors import TableError
from nas.latency import fill
from nas.latency.fill import fill_design, fit_rows, op_features
from nas.latency.keys import op_keys, space_keys
from nas.latency.stats import OpStats
from nas.latency.table import LatencyTable

from .conftest import HERE, run_nas
from .test_table import make_table

FILL_SPACE = HERE / "fill_space.yaml"


def test_features_of_pointwise_and_depthwise_convolutions_by_hand() -> None:
    # 1x1, 32 -> 128 channels at 128x96: 128*96 outputs x 32 inputs x 128 channels
    pw = op_features("unit-in:128x96x32-out:128x96x128-c128k1s1p0g1.bn")
    macs = 128 * 96 * 32 * 128
    # working set 4 bytes x (input 393,216 + output 1,572,864 + weights 4,096) = 7.5 MiB: the "8m" bucket;
    # 32 input channels: the "c96" bucket; batch norm folds into the convolution (free)
    assert pw == {"pw:macs@8m": macs, "pw:macs@c96": macs, "pw:in": 128 * 96 * 32, "pw:out": 128 * 96 * 128, "ops": 1}
    dw = op_features("unit-in:32x24x64-out:32x24x64-c64k3s1p1g64.bn.relu")
    assert dw == {"dw3s1:macs@512k": 32 * 24 * 64 * 9, "dw3s1:in": 32 * 24 * 64, "dw3s1:out": 32 * 24 * 64, "clamp:elems": 32 * 24 * 64, "ops": 2}
    strided = op_features("unit-in:32x24x64-out:16x12x64-c64k3s2p1g64.bn")
    assert strided["dw3s2:macs@512k"] == 16 * 12 * 64 * 9 and not any(name.startswith("dw3s1") for name in strided)


def _fake_features(seed: int = 0) -> tuple[list[str], dict[str, dict[str, float]]]:
    rng = random.Random(seed)
    keys = [f"small-{i}" for i in range(10)] + [f"big-{i}" for i in range(300)]
    features = {k: {"common": rng.uniform(1, 100), "ops": 1.0} for k in keys if k.startswith("big")}
    for k in ("big-7", "big-150", "big-299"):  # a cost only three ops have
        features[k]["rare"] = 5.0
    return keys, features


def test_design_measures_small_kinds_whole_a_share_and_every_feature() -> None:
    keys, features = _fake_features()
    design = fill_design(keys, features, share=0.08, cover=5, whole_kind_ops=150, seed=0)
    assert set(design) >= {f"small-{i}" for i in range(10)}  # 10 ops: measured whole
    big = [k for k in design if k.startswith("big")]
    assert {"big-7", "big-150", "big-299"} <= set(big)  # fewer than `cover` have "rare": all of them
    assert 0.04 < len(big) / 300 < 0.14  # the 8% share, give or take the seeded draw
    assert design == [k for k in keys if k in set(design)]  # in the keys' order
    assert design == fill_design(keys, features, share=0.08, cover=5, whole_kind_ops=150, seed=0)
    assert design != fill_design(keys, features, share=0.08, cover=5, whole_kind_ops=150, seed=1)
    # coverage alone: no random share still measures `cover` ops of each feature
    bare = [k for k in fill_design(keys, features, share=0.0, cover=5, whole_kind_ops=150, seed=0) if k.startswith("big")]
    assert 5 <= len(bare) <= 8 and {"big-7", "big-150", "big-299"} <= set(bare)  # 5 for "common" and "ops", the 3 "rare"


def test_fit_recovers_a_linear_cost_and_leaves_thin_kinds_missing() -> None:
    rng = random.Random(3)
    features = {f"big-{i}": {"macs": rng.uniform(1e5, 1e7), "elems": rng.uniform(1e3, 1e5)} for i in range(60)}
    features.update({f"thin-{i}": {"macs": 1e6 * (i + 1)} for i in range(5)})
    truth = {k: 0.2 + 3e-6 * f["macs"] + 1e-4 * f.get("elems", 0.0) for k, f in features.items()}  # ms
    measured = {k: truth[k] for k in list(features)[:20]} | {f"thin-{i}": truth[f"thin-{i}"] for i in range(3)}
    result = fit_rows(measured, list(features), features)
    assert set(result.rows) == {f"big-{i}" for i in range(20, 60)}  # only unmeasured keys are fitted
    for key, ms in result.rows.items():
        assert ms == pytest.approx(truth[key], rel=1e-6), key
    assert result.kinds["big"]["measured"] == 20 and result.kinds["big"]["fitted"] == 40
    assert result.kinds["big"]["cv_p90_error"] < 1e-6  # an exact model predicts its held-out rows exactly
    assert result.unfitted == ["thin-3", "thin-4"]  # 3 measured rows are too few to fit a kind on
    summary = result.summary()
    assert summary["rows"] == 40 and summary["features_version"] == fill.FEATURES_VERSION


def _filled_table(tmp_path: Path, tiny_space) -> tuple[LatencyTable, list[str]]:
    keys = space_keys(tiny_space)
    table = make_table(tmp_path / "t", keys, skip=4)  # the first 4 keys not measured...
    table.set_fitted({k: 1.5 + i for i, k in enumerate(keys[:4])}, {"rows": 4, "kinds": {}})  # ...but fitted
    table.save()
    return LatencyTable.load(tmp_path / "t"), keys


def test_fitted_rows_round_trip_and_flag_predictions(tmp_path, tiny_space) -> None:
    table, keys = _filled_table(tmp_path, tiny_space)
    assert (tmp_path / "t" / "fitted.csv").read_text().splitlines()[0] == "key,median_ms"
    assert table.fitted == {k: 1.5 + i for i, k in enumerate(keys[:4])} and len(table) == len(keys) - 4
    assert keys[0] not in table and table.missing(keys) == []  # not measured, yet predictable
    arch = next(a for a in (tiny_space.sample(s) for s in range(50)) if set(op_keys(a)) & set(keys[:4]))
    prediction = table.predict(arch)
    fitted = [op.key for op, _ in prediction.breakdown if op.key in prediction.fitted]
    assert fitted and set(fitted) <= set(keys[:4])
    assert prediction.fitted_ms == pytest.approx(math.fsum(table.fitted[k] for k in fitted))
    as_json = prediction.to_dict()
    assert [b["fitted"] for b in as_json["breakdown"]] == [b["key"] in table.fitted for b in as_json["breakdown"]]
    assert table.predict_ms(arch) == pytest.approx(prediction.sum_ms)


def test_measured_rows_win_and_the_file_goes_with_the_last_fitted_row(tmp_path, tiny_space) -> None:
    table, keys = _filled_table(tmp_path, tiny_space)
    table.add(keys[0], OpStats(9.0, 8.0, 10.0, 0.5, 15))
    table.save()
    again = LatencyTable.load(tmp_path / "t")
    assert keys[0] in again and keys[0] not in again.fitted and again.meta["fill"]["rows"] == 3
    for key in keys[1:4]:
        again.add(key, OpStats(2.0, 1.9, 2.1, 0.1, 15))
    again.save()
    assert not (tmp_path / "t" / "fitted.csv").exists() and "fill" not in json.loads((tmp_path / "t" / "meta.json").read_text())
    # a fitted.csv still naming a measured key (a profile killed between its two writes): measured wins
    (tmp_path / "t" / "fitted.csv").write_text(f"key,median_ms\n{keys[0]},123.0\n")
    loaded = LatencyTable.load(tmp_path / "t")
    assert keys[0] not in loaded.fitted and loaded.rows[keys[0]].median_ms == 9.0


@pytest.mark.parametrize("text", ["key,ms\nx,1\n", "key,median_ms\nx,-1\n", "key,median_ms\nx,abc\n", "key,median_ms\nx,1\nx,2\n", "key,median_ms\n,1\n"])
def test_corrupt_fitted_csv_is_a_clear_error(tmp_path, tiny_space, text: str) -> None:
    _filled_table(tmp_path, tiny_space)
    (tmp_path / "t" / "fitted.csv").write_text(text)
    with pytest.raises(TableError, match="fitted.csv"):
        LatencyTable.load(tmp_path / "t")


def test_cli_defaults_match_the_library() -> None:
    from nas.cli import profile as cli

    assert (cli.FILL_SHARE, cli.FILL_COVER, cli.WHOLE_KIND_OPS) == (fill.FILL_SHARE, fill.FILL_COVER, fill.WHOLE_KIND_OPS)


def test_profile_fill_then_complete(tmp_path) -> None:
    from nas.space.search_space import SearchSpace

    out = tmp_path / "table"
    common = ["profile", "--baseline", "none", "--space", str(FILL_SPACE), "--runtime", "torch", "--out", str(out), "--rounds", "3", "--warmup", "1"]
    done = run_nas(*common, "--fill", "--fill-whole-kinds", "30", "--fill-cover", "2", "--fill-share", "0.1")
    assert done.returncode == 0, done.stderr
    keys = space_keys(SearchSpace.from_yaml(FILL_SPACE))  # 112 inverted residuals, 18 other ops
    table = LatencyTable.load(out)
    assert 18 < len(table) < 60 and len(table) + len(table.fitted) == len(keys)
    assert set(table.fitted) <= {k for k in keys if k.startswith("ir-")} and table.missing(keys) == []
    assert f"{len(table.fitted)} ops fitted into" in done.stdout and "ir " in done.stdout
    kinds = table.meta["fill"]["kinds"]
    assert kinds["ir"]["measured"] + kinds["ir"]["fitted"] == 112 and 0 <= kinds["ir"]["cv_median_error"] < 1
    checked = run_nas("latency", "validate", "--table", str(out), "--samples", "4", "--rounds", "3", "--json", "--report-dir", str(tmp_path / "v"))
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["fitted_ops"] == len(table.fitted)  # the report says the table is part fitted
    measured_before = dict(table.rows)
    complete = run_nas(*common)
    assert complete.returncode == 0, complete.stderr
    assert f"{len(measured_before)} already in the table, {len(table.fitted)} measured now" in complete.stdout
    after = LatencyTable.load(out)
    assert set(after.rows) == set(keys) and not after.fitted and not (out / "fitted.csv").exists()
    assert all(after.rows[k] == v for k, v in measured_before.items())


def test_fill_and_sample_together_are_refused(tmp_path) -> None:
    done = run_nas("profile", "--baseline", "none", "--space", str(FILL_SPACE), "--runtime", "torch", "--out", str(tmp_path / "t"), "--fill", "--sample", "3")
    assert done.returncode == 2 and "--fill and --sample" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "t").exists()
