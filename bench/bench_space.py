"""Benchmark: default search space size, and median build + forward time per sampled
architecture at the proxy input size on this machine's CPU.

    python bench/bench_space.py [--space search_spaces/densepose_mobile.yaml] [--samples 30] [--seed 0] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from nas.model import FeatureNetwork
from nas.model.complexity import count_params
from nas.space.search_space import SearchSpace

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", default=str(ROOT / "search_spaces" / "densepose_mobile.yaml"))
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: one per core)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    space = SearchSpace.from_yaml(args.space)
    h, w = space.proxy_input
    x = torch.randn(1, 3, h, w)
    rng = np.random.default_rng(args.seed)
    build_ms, forward_ms, params = [], [], []
    for _ in tqdm(range(args.samples), desc="build+forward", unit="arch"):
        arch = space.sample(rng)
        start = time.perf_counter()
        model = FeatureNetwork(arch).eval()
        build_ms.append((time.perf_counter() - start) * 1e3)
        params.append(count_params(model))
        with torch.no_grad():
            model(x)  # warm-up
            times = []
            for _ in range(3):
                start = time.perf_counter()
                model(x)
                times.append((time.perf_counter() - start) * 1e3)
        forward_ms.append(statistics.median(times))
    print(f"space: {space.name} ({args.space})")
    print(f"space size: {space.size():.3e} architectures")
    print(f"samples: {args.samples} at proxy input {h}x{w}, batch 1, {torch.get_num_threads()} threads")
    print(f"median build time:   {statistics.median(build_ms):8.1f} ms  (p10 {np.percentile(build_ms, 10):.1f}, p90 {np.percentile(build_ms, 90):.1f})")
    print(f"median forward time: {statistics.median(forward_ms):8.1f} ms  (p10 {np.percentile(forward_ms, 10):.1f}, p90 {np.percentile(forward_ms, 90):.1f})")
    print(f"median build+forward: {statistics.median([b + f for b, f in zip(build_ms, forward_ms)]):7.1f} ms")
    print(f"median params (backbone+neck): {statistics.median(params) / 1e6:.2f}M")


if __name__ == "__main__":
    main()
