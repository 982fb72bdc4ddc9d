"""Benchmark: how close an int8 export stays to fp32, calibrated on real images or on noise.

    python bench/bench_export.py [--run results/demo] [--trial TRIAL] [--images 16] [--calibration 16]

Takes a trained architecture of a search run (default: the trial with the best GPS AP
whose weights were kept), lowers its deployable network to int8 twice, once calibrated on
training images of the run's dataset (what ``nas export --int8`` does) and once on
Gaussian noise of the same shape (what it did before), and runs both programs and the fp32
program through the ExecuTorch runtime on validation images. Printed per program: the
relative error of the features against eager fp32 (mean |int8 - fp32| / mean |fp32| over
every output level, median over the images) and the cosine similarity of the flattened
features (median). The two calibrations run side by side in one process.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=ROOT / "results" / "demo")
    parser.add_argument("--trial", default=None, help="trial id (default: the best GPS AP with kept weights)")
    parser.add_argument("--images", type=int, default=16, help="validation images the programs are compared on")
    parser.add_argument("--calibration", type=int, default=16, help="calibration inputs per int8 program")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()

    from nas.export import deployable, lower
    from nas.export.calibration import calibration_inputs, program_agreement
    from nas.runs.store import ResultsStore
    from nas.space.spec import ArchSpec

    store = ResultsStore(args.run)
    config = store.load_config()
    rows = [r for r in store.rows().values() if r.status == "finished" and (store.trial_dir(r.trial) / "model.pt").is_file()]
    if args.trial:
        rows = [r for r in rows if r.trial == args.trial]
    if not rows:
        raise SystemExit(f"{args.run}: no finished trial with kept weights{' named ' + args.trial if args.trial else ''}")
    row = max(rows, key=lambda r: r.gps_ap)
    arch = ArchSpec.from_string(row.arch)
    saved = torch.load(store.trial_dir(row.trial) / "model.pt", weights_only=True)
    module, inputs = deployable(arch, saved["state_dict"])

    images = [x for (x,) in calibration_inputs(config["data"], arch.input_size, count=args.images, seed=1, split="val")]

    real = calibration_inputs(config["data"], arch.input_size, count=args.calibration)
    generator = torch.Generator().manual_seed(0)
    noise = [(torch.randn(inputs[0].shape, generator=generator),) for _ in range(args.calibration)]
    print(f"{args.run} trial {row.trial} ({arch.id}, GPS AP {row.gps_ap:.1f}): {len(images)} validation images at {arch.input_size}")
    report: dict[str, object] = {"run": str(args.run), "trial": row.trial, "arch": row.arch, "images": len(images), "calibration": args.calibration}
    with tempfile.TemporaryDirectory() as tmp:
        programs = {
            "fp32": lower(module, inputs, Path(tmp) / "fp32.pte", "fp32"),
            "int8, real-image calibration": lower(module, inputs, Path(tmp) / "real.pte", "int8", calibration=real),
            "int8, noise calibration": lower(module, inputs, Path(tmp) / "noise.pte", "int8", calibration=noise),
        }
        print(f"{'program':<32}{'rel. error (median)':>21}{'cosine (median)':>17}")
        batches = [(image,) for image in images]
        with torch.no_grad():  # eager fp32, once per image for all three programs
            references = [module(image) for image in images]
        for name, path in programs.items():
            error, cosine = program_agreement(path, batches, references)
            report[name] = {"relative_error_median": error, "cosine_median": cosine}
            print(f"{name:<32}{error:>21.4f}{cosine:>17.4f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"report: {args.json}")


if __name__ == "__main__":
    main()
