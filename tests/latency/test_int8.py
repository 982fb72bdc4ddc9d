"""int8 latency tables: every op kind lowered through the PT2E XNNPACK quantizer and timed,
an int8 table's meta.json round trip, and a table never mixing two dtypes."""

from __future__ import annotations

import json

import pytest
import torch

from nas.errors import LatencyError
from nas.latency.heads import DENSE_PREFIX  # noqa: F401 - registers the head kinds
from nas.latency.opkinds import build_op, key_kind, op_kinds
from nas.latency.programs import LOWERINGS, ProgramCache
from nas.latency.quantize import INT8_SCHEME, synthetic_calibration
from nas.latency.runtimes import get_runtime
from nas.latency.table import LatencyTable, profile_command

from .conftest import TINY_SPACE, run_nas

# One tiny op of every kind (the whole registry: a kind registered later fails the first
# test until it is added here). The ir key has squeeze-excitation and hard-swish, whose
# cost changes most under quantization.
INT8_KEYS = (
    "conv-in:8x8x16-out:8x8x32-s1-relu6-k1",
    "dw-in:8x8x16-out:4x4x16-s2-relu-k3-se0",
    "fire-in:16x16x8-out:8x8x16-s2-relu-dw1-sq8",
    "ir-in:8x8x8-out:4x4x16-s2-hs-eg1-e2-k3-pg1-se0.25",
    "mix-in:8x8x16-out:4x4x16-s2-relu-eg1-e2-k3.5-pg1-se0",
    "res-in:8x8x16-out:4x4x32-s2-relu-e0.25-k3",
    "stem-in:32x32x3-out:16x16x8-k3-s2-relu-pool0-pad1",
    "unit-in:8x8x16-out:8x8x16-c16k3s1p1g16.c16k1s1p0g1.bn",
    "glue-fpn-c16-l3.5-r1-in:8x8.4x4.2x2",
    "glue-bifpn-c16-l3.5-r1-in:8x8.4x4.2x2",  # weighted fusion: failed to lower int8 while its weights were 0-dim
    "rpn-in:4x4x16-a3-dw1",
    "boxhead-r2-in:7x7x16-h64",
    "dphead-r2-in:7x7x16-n1-c32-k3-o14",
)


def test_the_keys_cover_every_op_kind() -> None:
    assert sorted({key_kind(k) for k in INT8_KEYS}) == sorted(op_kinds())


def test_synthetic_calibration_is_seeded_and_shaped_like_the_inputs() -> None:
    inputs = (torch.zeros(1, 3, 4, 5), torch.zeros(2, 8, 7, 7))
    first, again = synthetic_calibration(inputs), synthetic_calibration(inputs)
    assert len(first) == 4 and all(tuple(x.shape for x in batch) == ((1, 3, 4, 5), (2, 8, 7, 7)) for batch in first)
    assert all(torch.equal(a, b) for x, y in zip(first, again) for a, b in zip(x, y))
    assert not torch.equal(first[0][0], first[1][0])  # distinct batches, not one repeated


@pytest.mark.slow
def test_every_op_kind_lowers_to_int8_and_is_timed(tmp_path) -> None:
    """Each program is built by the runtime's int8 lowering, timed by ExecuTorch, and
    computes its op: close to eager fp32, but not as exactly as an fp32 program would."""
    from nas.export import run_pte

    runtime = get_runtime("executorch", dtype="int8", cache=tmp_path)
    assert runtime.programs.folder.name.startswith("xnnpack-int8-")
    runtime.prepare(list(INT8_KEYS))
    timers = runtime.timers(list(INT8_KEYS))
    for key in INT8_KEYS:
        assert 0 < timers[key]() < 1_000, key  # ms, one run of a tiny op
        torch.manual_seed(0)  # the weights the program was lowered with (lower_program)
        built = build_op(key)
        with torch.no_grad():
            eager = built.module(*built.inputs)
        eager = eager if isinstance(eager, (tuple, list)) else (eager,)
        outputs = run_pte(runtime.program_file(key), tuple(built.inputs))
        assert [o.shape for o in outputs] == [e.shape for e in eager], key
        if key_kind(key) == "rpn":
            # its freshly initialised convs (weights of std 0.01) give outputs of ~2e-5, which
            # int8 requantization flushes to zero: the kernels, and so the time, are the same
            continue
        flat_out = torch.cat([o.flatten() for o in outputs])
        flat_ref = torch.cat([torch.as_tensor(e).flatten() for e in eager])
        error = float((flat_out - flat_ref).abs().sum() / flat_ref.abs().sum())
        assert 1e-4 < error < 0.25, f"{key}: relative L1 error {error:.2e} of the int8 program against eager fp32"


@pytest.mark.slow
def test_an_int8_whole_network_loads_and_runs(tmp_path, tiny_space) -> None:
    """What validation times: a whole dense network, whose RPN applies one conv to every
    level (a weight the quantizer saw once left the other levels' convs fp32, and XNNPACK
    refused to load the program)."""
    from nas.latency.heads import dense_program
    from nas.latency.validate import sample_archs

    (arch,) = sample_archs(tiny_space, 1, 0)
    name = dense_program(arch.to_string(), 10)
    runtime = get_runtime("executorch", dtype="int8", cache=tmp_path)
    runtime.prepare([name])
    run = runtime.timers([name])[name]
    assert all(0 < run() < 1_000 for _ in range(3))


def test_unknown_dtype_and_torch_int8_are_refused(tmp_path) -> None:
    assert sorted(LOWERINGS) == ["fp32", "int8"]
    with pytest.raises(Exception, match=r"unknown dtype 'int4' .*known: fp32, int8"):
        ProgramCache(tmp_path, "int4")
    with pytest.raises(LatencyError, match="runtime 'torch' measures fp32 only, not 'int8'; profile int8 with --runtime executorch"):
        get_runtime("torch", dtype="int8")


def _profile(out, *args: str):
    return run_nas("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "executorch", "--out", str(out),
                   "--speed-refs", "0", "--rounds", "3", "--warmup", "1", "--workers", "1", *args, timeout=600)


@pytest.mark.slow
def test_int8_table_round_trip_and_no_dtype_mixing(tmp_path) -> None:
    cache = tmp_path / "programs"
    int8_table, fp32_table = tmp_path / "int8", tmp_path / "fp32"
    done = _profile(int8_table, "--cache", str(cache), "--dtype", "int8", "--limit", "2")
    assert done.returncode == 0, done.stderr
    table = LatencyTable.load(int8_table)
    meta = json.loads((int8_table / "meta.json").read_text())
    assert meta["dtype"] == "int8" and meta["quantization"] == INT8_SCHEME == "xnnpack-pt2e-symmetric-per-channel-static"
    assert meta["program_flavour"].startswith("xnnpack-int8-") and table.meta == meta
    assert len(table) == 2 and all(r.median_ms > 0 for r in table.rows.values())
    assert len(list((cache / meta["program_flavour"]).glob("*.pte"))) == 2  # built int8, into the int8 folder only
    assert "--dtype int8" in profile_command(meta, int8_table)  # what a missing-ops error tells to run

    # an int8 table resumed as fp32, and an fp32 table resumed as int8: one clear line each, nothing written
    before = (int8_table / "table.csv").read_text()
    refused = _profile(int8_table, "--cache", str(cache), "--limit", "1")
    assert refused.returncode == 2
    assert (f"error: {int8_table} holds int8 ({INT8_SCHEME}) latencies and this run measures fp32 (not quantized): a table holds "
            "one dtype and scheme, never both; profile into another --out, or resume it with --dtype int8") in refused.stderr
    assert (int8_table / "table.csv").read_text() == before
    done = _profile(fp32_table, "--cache", str(cache), "--limit", "1")
    assert done.returncode == 0, done.stderr
    assert "quantization" not in json.loads((fp32_table / "meta.json").read_text())  # fp32 meta.json as before
    refused = _profile(fp32_table, "--cache", str(cache), "--dtype", "int8", "--limit", "1")
    assert refused.returncode == 2
    assert f"{fp32_table} holds fp32 (not quantized) latencies and this run measures int8 ({INT8_SCHEME})" in refused.stderr
    assert "resume it with --dtype fp32" in refused.stderr and len(LatencyTable.load(fp32_table)) == 1


def test_kind_ratios_by_hand(tmp_path) -> None:
    from nas.errors import TableError
    from nas.latency.compare import kind_ratios, table_ratios
    from nas.latency.stats import OpStats

    int8 = {"ir-a": 1.0, "ir-b": 3.0, "ir-c": 2.0, "dw-a": 4.0, "stem-a": 1.0}
    fp32 = {"ir-a": 4.0, "ir-b": 6.0, "ir-c": 2.0, "dw-a": 5.0, "unit-a": 1.0}  # stem-a and unit-a: in one only
    ratios = kind_ratios(int8, fp32)
    assert list(ratios) == ["dw", "ir"]
    assert ratios["ir"].ops == 3 and ratios["ir"].median == 0.5  # 0.25, 0.5, 1.0
    assert ratios["ir"].total == pytest.approx(6.0 / 12.0) and ratios["dw"].median == ratios["dw"].total == 0.8
    assert ratios["ir"].p10 == pytest.approx(0.3) and ratios["ir"].p90 == pytest.approx(0.9)  # linear between ranks

    def table(name: str, rows: dict[str, float], fitted: dict[str, float]) -> LatencyTable:
        return LatencyTable(tmp_path / name, {}, {k: OpStats(ms, ms, ms, 0.0, 5) for k, ms in rows.items()}, fitted)

    # fitted rows are no measurement: they never count
    measured = table_ratios(table("a", {"ir-a": 1.0}, {"dw-a": 1.0}), table("b", {"ir-a": 2.0, "dw-a": 4.0}, {}))
    assert list(measured) == ["ir"] and measured["ir"].median == 0.5
    with pytest.raises(TableError, match="share no measured op"):
        table_ratios(table("c", {"ir-a": 1.0}, {}), table("d", {}, {"ir-a": 2.0}))


def test_predict_names_an_int8_tables_dtype(tmp_path, tiny_space) -> None:
    from nas.latency.synthetic import write_synthetic_table

    table = write_synthetic_table(tmp_path / "int8", TINY_SPACE, baselines=(), dtype="int8")
    meta = json.loads((table / "meta.json").read_text())
    assert meta["dtype"] == "int8" and meta["quantization"] == INT8_SCHEME
    arch = tiny_space.sample(0)
    shown = run_nas("latency", "predict", "--table", str(table), arch.to_string(), "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["dtype"] == "int8"
    shown = run_nas("latency", "predict", "--table", str(table), arch.to_string())
    assert f"{LatencyTable.load(table).predict(arch).latency_ms:.2f} ms predicted, int8 (plain sum" in shown.stdout


def test_validating_an_int8_table_with_an_fp32_runtime_is_refused(tmp_path, tiny_space) -> None:
    from nas.latency.synthetic import write_synthetic_table
    from nas.latency.transports import LocalTransport
    from nas.latency.transports.base import MeasureSettings
    from nas.latency.validate import validate_table

    table = LatencyTable.load(write_synthetic_table(tmp_path / "int8", TINY_SPACE, baselines=(), dtype="int8"))
    with pytest.raises(LatencyError, match=r"holds int8 latencies but the runtime measures fp32: validate it with a runtime of dtype int8"):
        validate_table(table, tiny_space, get_runtime("torch"), LocalTransport(), MeasureSettings(1, 1), samples=4)
    assert not (tmp_path / "int8" / "validation.json").exists()
