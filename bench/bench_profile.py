"""Benchmark: what profiling a whole search space costs, cold and for a second device.

    python bench/bench_profile.py [--space search_spaces/densepose_mobile.yaml] [--sample 24] [--workers 2]

A seeded sample of the space's op keys is lowered into an empty temporary program cache
(cold: torch.export + XNNPACK partitioning + serialisation, ``--workers`` processes),
then timed the way ``nas profile`` times them (warm-up, interleaved rounds, the default
timing budget; without the stability rounds and reference ops a profile adds). Reported
per op and extrapolated to every key of the space:

* cold profile = lowering + timing of every key;
* second device = timing only (the programs are cached; the device's own timing is the
  part the issue excludes, so the overhead figure is loading/pushing the programs).

Side by side in the same run, a few of the same keys are lowered plainly and with the
lowering shortcuts of the build workers (``nas.latency.programs.speed_up_lowering``: the
memoised CompositeImplicitAutograd op walk, cached ``py_impl`` annotations, shared fx
provenance), alternating key by key in two interpreters, so the gain is a ratio on the
same machine state; the two lowerings' bytes are compared (seeded weights).
Medians over the sample; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_LOWERING = """
import hashlib, sys, time, warnings
warnings.filterwarnings("ignore")
import torch
torch.set_num_threads(1)
from nas.latency import programs
if sys.argv[1] == "fast":
    programs.speed_up_lowering()
for line in sys.stdin:  # one key per line, answered with "seconds digest"
    start = time.perf_counter()
    data = programs.lower_program(line.strip())  # building the module itself takes milliseconds
    print(f"{time.perf_counter() - start:.4f} {hashlib.sha256(data).hexdigest()}", flush=True)
"""


def _lowering_ab(keys: list[str]) -> tuple[list[float], list[float], bool]:
    """Seconds per key lowered plainly and with the shortcuts, alternating key by key
    (the first key of each interpreter pays imports and warm-up and is dropped), and
    whether the two produced the same bytes for every key."""
    workers = {
        mode: subprocess.Popen([sys.executable, "-c", _LOWERING, mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        for mode in ("plain", "fast")
    }
    seconds: dict[str, list[float]] = {"plain": [], "fast": []}
    digests: dict[str, list[str]] = {"plain": [], "fast": []}
    for key in keys:
        for mode, proc in workers.items():
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(key + "\n")
            proc.stdin.flush()
            took, digest = proc.stdout.readline().split()
            seconds[mode].append(float(took))
            digests[mode].append(digest)
    for proc in workers.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    return seconds["plain"][1:], seconds["fast"][1:], digests["plain"] == digests["fast"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", default=str(ROOT / "search_spaces" / "densepose_mobile.yaml"))
    parser.add_argument("--sample", type=int, default=24, help="keys lowered and timed cold")
    parser.add_argument("--ab", type=int, default=6, help="keys lowered with and without the shortcuts (after one warm-up key)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()

    from nas.latency.keys import space_keys
    from nas.latency.runner import DEFAULT_BUDGET_MS
    from nas.latency.runtimes import get_runtime
    from nas.latency.transports import MeasureSettings, make_transport
    from nas.space.search_space import SearchSpace

    keys = space_keys(SearchSpace.from_yaml(args.space))
    sample = random.Random(args.seed).sample(keys, min(args.sample, len(keys)))
    with tempfile.TemporaryDirectory() as cache:
        runtime = get_runtime("executorch", device="cpu", threads=1, dtype="fp32", cache=Path(cache))
        start = time.perf_counter()
        runtime.prepare(sample, workers=args.workers)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        # timed as `nas profile` times them by default (5 + 15 runs, the timing budget)
        make_transport(None, None, None, None, "python3", "f0").measure(runtime, sample, MeasureSettings(5, 15, budget_ms=DEFAULT_BUDGET_MS))
        measure_s = time.perf_counter() - start
    ab_keys = sample[: args.ab + 1]
    plain, fast, identical = _lowering_ab(ab_keys)
    per_build = build_s / len(sample)  # wall seconds per op with --workers processes
    per_measure = measure_s / len(sample)
    report = {
        "space": args.space,
        "space_keys": len(keys),
        "sample": len(sample),
        "workers": args.workers,
        "build_wall_s_per_op": round(per_build, 3),
        "measure_s_per_op": round(per_measure, 3),
        "cold_profile_min_extrapolated": round(len(keys) * (per_build + per_measure) / 60, 1),
        "second_device_timing_min_extrapolated": round(len(keys) * per_measure / 60, 1),
        "lowering_s_median_plain": round(statistics.median(plain), 3),
        "lowering_s_median_shortcuts": round(statistics.median(fast), 3),
        "shortcut_speedup": round(statistics.median(plain) / statistics.median(fast), 3),
        "shortcut_programs_byte_identical": identical,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
