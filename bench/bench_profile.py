"""Benchmark: what profiling a whole search space costs, cold and for a second device.

    python bench/bench_profile.py [--space search_spaces/densepose_mobile.yaml] [--sample 24] [--workers 2]

A seeded sample of the space's op keys is lowered into an empty temporary program cache
(cold: torch.export + XNNPACK partitioning + serialisation, ``--workers`` processes),
then timed the way ``nas profile`` times them (warm-up, interleaved rounds). Reported
per op and extrapolated to every key of the space:

* cold profile = lowering + timing of every key;
* second device = timing only (the programs are cached; the device's own timing is the
  part the issue excludes, so the overhead figure is loading/pushing the programs).

Side by side in the same run, the lowering is also timed without the memoised
CompositeImplicitAutograd op walk (``nas.latency.programs._memoise_cia_op_collection``)
on a few of the same keys, so its gain is a ratio on the same machine state.
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

_PLAIN_LOWERING = """
import sys, time, warnings
warnings.filterwarnings("ignore")
import torch
torch.set_num_threads(1)
from nas.latency.programs import LOWERINGS, build_program
times = []
for key in sys.argv[1:]:
    built = build_program(key)
    start = time.perf_counter()
    LOWERINGS["fp32"](built.module, built.inputs)
    times.append(time.perf_counter() - start)
print(" ".join(f"{t:.4f}" for t in times))
"""

_MEMO_LOWERING = _PLAIN_LOWERING.replace(
    "from nas.latency.programs import LOWERINGS, build_program",
    "from nas.latency.programs import LOWERINGS, build_program, _memoise_cia_op_collection\n_memoise_cia_op_collection()",
)


def _lowering_times(script: str, keys: list[str]) -> list[float]:
    out = subprocess.run([sys.executable, "-c", script, *keys], check=True, capture_output=True, text=True, cwd=ROOT)
    return [float(t) for t in out.stdout.split()[-len(keys) :]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", default=str(ROOT / "search_spaces" / "densepose_mobile.yaml"))
    parser.add_argument("--sample", type=int, default=24, help="keys lowered and timed cold")
    parser.add_argument("--ab", type=int, default=6, help="keys lowered with and without the memoised op walk (after one warm-up key)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()

    from nas.latency.keys import space_keys
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
        make_transport(None, None, None, None, "python3", "f0").measure(runtime, sample, MeasureSettings(5, 15))
        measure_s = time.perf_counter() - start
    ab_keys = sample[: args.ab + 1]
    plain = _lowering_times(_PLAIN_LOWERING, ab_keys)[1:]  # the first lowering of a process pays imports and warm-up
    memo = _lowering_times(_MEMO_LOWERING, ab_keys)[1:]
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
        "lowering_s_median_memoised": round(statistics.median(memo), 3),
        "memo_speedup": round(statistics.median(plain) / statistics.median(memo), 3),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
