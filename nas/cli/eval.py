"""``nas eval``: DensePose-COCO evaluation (GPS, GPSm and IOU AP) of a results file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from nas.errors import EvalError
from nas.io import excerpt

if TYPE_CHECKING:
    from nas.data.surface import BodySurface

__all__ = ["register", "eval_command"]


def _load_surface(gt: Path, surface: Optional[Path]) -> BodySurface:
    from nas.data.dataset import find_surface
    from nas.data.source import open_surface

    path = surface if surface is not None else find_surface(gt)  # the synthetic layout: DIR/annotations/*.json, DIR/surface.npz
    if path is None:
        beside, up = gt.parent / "surface.npz", gt.parent.parent / "surface.npz"
        looked = beside if up == beside else f"{beside} and {up}"
        raise EvalError(f"no body surface found beside {gt} (looked for {looked}); pass --surface "
                        "with a surface.npz or the folder of DensePose's evaluation files")
    return open_surface(path)


def eval_command(
    gt: Path = typer.Option(..., "--gt", help="DensePose-COCO annotation JSON (ground truth)."),
    pred: Path = typer.Option(..., "--pred", help="DensePose results JSON (list of detections with uv_data)."),
    surface: Optional[Path] = typer.Option(
        None,
        "--surface",
        help="Body surface: a surface.npz, or a folder with DensePose's SMPL_subdiv.mat, "
        "SMPL_SUBDIV_TRANSFORM.mat, Pdist_matrix.pkl. Default: surface.npz beside --gt (or its parent folder).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as one JSON object."),
    modes: str = typer.Option("gps,gpsm,iou", "--modes", help="Comma-separated modes among gps, gpsm, iou."),
    wrong_part: str = typer.Option(
        "geodesic", "--wrong-part",
        help="A point predicted on another part: geodesic (official: distance to that part's nearest vertex) or zero.",
    ),
    placement: str = typer.Option(
        "official", "--placement",
        help="Point placement: official (box + dp*size/255, truncated to the box's pixels) "
        "or frame256 (DensePose-COCO's 256-cell frame scaled to the map).",
    ),
    masks: str = typer.Option(
        "official", "--masks",
        help="Person masks: official (dp_masks part labels resized bilinearly, > 0.5) "
        "or nearest (nearest resampling, segmentation or box without dp_masks).",
    ),
    ignore_rule: str = typer.Option(
        "official", "--ignore-rule",
        help="Box-IoU >= 0.8 ignore rule: official (decided at the last threshold, applied to all) or per-threshold.",
    ),
) -> None:
    """Evaluate DensePose results: AP/AR for GPS, GPSm and IOU, as DensePose's official evaluator does.

    Each of --wrong-part, --placement, --masks and --ignore-rule can select this
    project's stricter definition instead (see docs/eval.md).
    """
    import time

    from nas.eval import OPTION_CHOICES, evaluate, format_summary

    chosen = [m.strip().lower() for m in modes.split(",") if m.strip()]
    options = {"wrong_part": wrong_part, "placement": placement, "masks": masks, "ignore_rule": ignore_rule}
    for name, value in options.items():
        if value not in OPTION_CHOICES[name]:
            flag = "--" + name.replace("_", "-")
            raise EvalError(f"{flag} must be one of {', '.join(OPTION_CHOICES[name])} (first: official), got {excerpt(value)}")
    # The inputs first: a missing --gt should not be reported as a missing surface beside it.
    for flag, path in (("--gt", gt), ("--pred", pred)):
        if path.is_dir():
            raise EvalError(f"{flag} {path} is a folder; give the path of a JSON file in it")
        if not path.is_file():
            raise EvalError(f"{flag} {path} not found (give the path of an existing JSON file)")
    body = _load_surface(gt, surface)
    t0 = time.perf_counter()
    metrics = evaluate(gt, pred, body, modes=chosen, **options)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t0
    if as_json:
        typer.echo(json.dumps({**metrics, "eval_seconds": round(seconds, 3)}))
        return
    departs = [f"--{k.replace('_', '-')} {v}" for k, v in options.items() if v != OPTION_CHOICES[k][0]]
    rules = "official rules" if not departs else "official rules except " + ", ".join(departs)
    typer.echo(f"{pred} against {gt} (surface: {body.name}; {rules}), {seconds:.2f} s")
    typer.echo(format_summary(metrics))


def register(app: typer.Typer) -> None:
    """Add the top-level ``nas eval`` command to ``app``."""
    app.command("eval")(eval_command)
