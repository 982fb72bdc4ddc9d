"""The remote path for real: a loopback "device" (a local folder and a local shell) running
the real ExecuTorch runtime through the pushed runner script; the device vanishing mid-run;
output parsers on real runner output."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nas.errors import DeviceError
from nas.latency.parsers import parse_executor_runner, parse_nas_runner
from nas.latency.table import LatencyTable

from .conftest import TINY_SPACE, run_nas

# a device reached through a command prefix: runs the command in a local shell while
# $ONLINE exists; after the second benchmark run it unplugs itself (adb-like error)
FLAKY_DEVICE = """#!/bin/sh
if [ ! -e "{online}" ]; then echo "error: device 'loop0' not found" >&2; exit 1; fi
case "$1" in *"nas_runner.py --threads"*)
  n=$(cat "{count}" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "{count}"
  if [ $n -ge 2 ]; then rm -f "{online}"; echo "error: device 'loop0' not found" >&2; exit 1; fi;;
esac
exec sh -c "$1"
"""


DW_KEY = "dw-in:32x32x8-out:32x32x8-s1-relu-k3-se0"  # one small real program for the runner tests


def _profile(out: Path, device_dir: Path, cache: Path, prefix: str, *extra: str):
    return run_nas(
        "profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "executorch", "--out", str(out), "--cache", str(cache),
        "--remote", prefix, "--remote-dir", str(device_dir), "--python", sys.executable,
        "--warmup", "2", "--rounds", "5", "--extra-rounds", "0", "--workers", "1", *extra,
        timeout=400,
    )


def test_loopback_device_disappears_then_resumes(tmp_path, program_cache) -> None:
    out, device_dir = tmp_path / "table", tmp_path / "device"
    online, count = tmp_path / "online", tmp_path / "count"
    online.touch()
    script = tmp_path / "flaky-device"
    script.write_text(FLAKY_DEVICE.format(online=online, count=count))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    done = _profile(out, device_dir, program_cache, str(script), "--chunk", "1", "--limit", "3")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "failed (exit 1)" in done.stderr and "device 'loop0' not found" in done.stderr
    assert "re-run the same command" in done.stderr and "Traceback" not in done.stderr
    assert len(LatencyTable.load(out)) == 1  # the chunk measured before the device vanished
    assert (device_dir / "nas_runner.py").is_file() and len(list(device_dir.glob("*.pte"))) >= 1
    # the device is back (a plain local shell): only the missing ops are measured
    done = _profile(out, device_dir, program_cache, "sh -c", "--chunk", "4", "--limit", "2")
    assert done.returncode == 0, done.stderr
    assert "1 already in the table, 2 measured now" in done.stdout
    table = LatencyTable.load(out)
    assert len(table) == 3 and all(r.count >= 3 and r.median_ms > 0 for r in table.rows.values())
    assert table.meta["transport"]["remote"] == "sh -c" and table.meta["runtime"] == "executorch"


def test_parsers_on_real_runner_output(program_cache, capsys) -> None:
    from nas.latency import runner
    from nas.latency.programs import ProgramCache

    cache = ProgramCache(program_cache)
    cache.build([DW_KEY])
    path = cache.path(DW_KEY)
    runner.main(["--threads", "1", "--warmup", "1", "--rounds", "4", str(path)])
    output = capsys.readouterr().out
    samples = parse_nas_runner(output, [path.name])
    assert len(samples[path.name]) == 4 and all(0 < v < 1000 for v in samples[path.name])
    with pytest.raises(DeviceError, match="lacks 1 of 2 programs"):
        parse_nas_runner(output, [path.name, "other.pte"])
    with pytest.raises(DeviceError, match="ended early"):
        parse_nas_runner("\n".join(line for line in output.splitlines() if not line.startswith("NASLAT-END")), [path.name])
    with pytest.raises(DeviceError, match="non-numeric"):
        parse_nas_runner(output.replace(",", ",x", 1), [path.name])
    with pytest.raises(DeviceError, match="twice"):
        line = next(line for line in output.splitlines() if line.startswith("NASLAT "))
        parse_nas_runner(line + "\n" + output, [path.name])
    runner.main(["--rounds", "1", str(path.parent / "missing.pte")])
    with pytest.raises(DeviceError, match="failed to run 1 program"):
        parse_nas_runner(capsys.readouterr().out, ["missing.pte"])


def test_pushed_runner_script_leaves_the_compiler_out(program_cache, tmp_path) -> None:
    """The runner as a device runs it (a lone script, a fresh interpreter) times a real
    program without importing ``executorch.exir``, whose import alone took 9.5 s of the
    11 s each remote chunk's runner start cost."""
    import shutil

    from nas.latency import runner
    from nas.latency.programs import ProgramCache

    cache = ProgramCache(program_cache)
    cache.build([DW_KEY])
    device = tmp_path / "device"
    device.mkdir()
    shutil.copy(runner.__file__, device / "nas_runner.py")
    shutil.copy(cache.path(DW_KEY), device / "op.pte")
    probe = ("import runpy, sys; sys.argv = ['nas_runner.py', '--rounds', '3', '--warmup', '1', 'op.pte']\n"
             "try:\n    runpy.run_path('nas_runner.py', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('compiler imported:', 'executorch.exir' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=device, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(parse_nas_runner(done.stdout, ["op.pte"])["op.pte"]) == 3
    assert "compiler imported: False" in done.stdout


def test_executor_runner_parser() -> None:
    # the log line of ExecuTorch's examples/portable/executor_runner (ET_LOG Info level)
    output = (
        "I 00:00:00.001203 executorch:executor_runner.cpp:155] Model file a.pte is loaded.\n"
        "I 00:00:00.052127 executorch:executor_runner.cpp:282] Model executed successfully 10 time(s) in 48.125000 ms.\n"
    )
    assert parse_executor_runner(output, ["a.pte"]) == {"a.pte": [pytest.approx(4.8125)]}
    with pytest.raises(DeviceError, match="0 timing lines"):
        parse_executor_runner("Segmentation fault", ["a.pte"])


FAKE_ADB = """#!/bin/sh
# adb stand-in: 'adb -s SERIAL push SRC DST' copies, 'adb -s SERIAL shell CMD' runs CMD locally
echo "$@" >> "{log}"
shift 2
case "$1" in push) cp "$2" "$3";; shell) exec sh -c "$2";; *) exit 1;; esac
"""
# executor_runner stand-in printing the real binary's timing line (the arithmetic is checked)
FAKE_RUNNER = """#!/bin/sh
echo "I 00:00:00.000100 executorch:executor_runner.cpp:155] Model file $2 is loaded."
echo "I 00:00:00.052127 executorch:executor_runner.cpp:282] Model executed successfully $4 time(s) in 25.000000 ms."
"""


def test_adb_transport_pushes_and_runs_executor_runner(tmp_path, program_cache) -> None:
    from nas.latency.runtimes import get_runtime
    from nas.latency.transports import AdbTransport, MeasureSettings, make_transport

    device_dir, log = tmp_path / "phone", tmp_path / "adb.log"
    device_dir.mkdir()
    adb = tmp_path / "adb"
    adb.write_text(FAKE_ADB.format(log=log))
    runner_bin = device_dir / "executor_runner"
    runner_bin.write_text(FAKE_RUNNER)
    for path in (adb, runner_bin):
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    transport = make_transport(f"{adb} -s SERIAL1", str(device_dir), cpus="1", iterations=10)
    assert isinstance(transport, AdbTransport) and transport.bench.format == "executor-runner"
    runtime = get_runtime("executorch", cache=program_cache)
    runtime.prepare([DW_KEY])
    samples = transport.measure(runtime, [DW_KEY], MeasureSettings(warmup=1, rounds=3))
    assert samples == {DW_KEY: [2.5, 2.5, 2.5]}  # 25 ms over 10 executions, one sample per invocation
    calls = log.read_text().splitlines()
    pte = runtime.program_file(DW_KEY).name
    assert calls[0].startswith("-s SERIAL1 shell mkdir -p")
    assert calls[1] == f"-s SERIAL1 push {runtime.program_file(DW_KEY)} {device_dir}/{pte}"
    assert calls[2] == f"-s SERIAL1 shell cd {device_dir} && taskset 1 ./executor_runner --model_path {pte} --num_executions 10"
    assert len(calls) == 2 + 1 + 3  # listing, push, warm-up invocation, 3 rounds
    # under a timing budget: an invocation costs 25 ms (10 executions of 2.5 ms), 6 rounds
    # would be 150 ms, a 50 ms budget leaves a third of them
    samples = transport.measure(runtime, [DW_KEY], MeasureSettings(warmup=1, rounds=6, budget_ms=50.0, min_rounds=1))
    assert samples == {DW_KEY: [2.5, 2.5]}
    runs = [c for c in log.read_text().splitlines()[len(calls):] if "executor_runner" in c]
    assert len(runs) == 1 + 2  # warm-up invocation, 2 rounds
