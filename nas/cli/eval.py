"""``nas eval``: DensePose-COCO evaluation (GPS, GPSm and IOU AP) of a results file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from nas.errors import EvalError

if TYPE_CHECKING:
    from nas.data.surface import BodySurface

__all__ = ["register", "eval_command"]


def _load_surface(gt: Path, surface: Optional[Path]) -> BodySurface:
    from nas.data.surface import BodySurface

    path = surface if surface is not None else gt.parent / "surface.npz"
    if surface is None and not path.is_file():
        # The synthetic generator writes DIR/annotations/*.json and DIR/surface.npz.
        up = gt.parent.parent / "surface.npz"
        if up.is_file():
            path = up
        else:
            looked = path if up == path else f"{path} and {up}"
            raise EvalError(
                f"no body surface found beside {gt} (looked for {looked}); pass --surface "
                "with a surface.npz or the folder of DensePose's evaluation files"
            )
    if path.is_dir():
        return BodySurface.from_densepose_files(path)
    return BodySurface.load(path)


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
        "zero", "--wrong-part", help="Score of a point predicted on another part: zero, or geodesic (DensePose's)."
    ),
) -> None:
    """Evaluate DensePose results: AP/AR for GPS, GPSm and IOU, as DensePose-COCO does."""
    import time

    from nas.eval import evaluate, format_summary

    chosen = [m.strip().lower() for m in modes.split(",") if m.strip()]
    if wrong_part not in ("zero", "geodesic"):
        raise EvalError(f"--wrong-part must be zero or geodesic, got {wrong_part!r}")
    # The inputs first: a missing --gt should not be reported as a missing surface beside it.
    for flag, path in (("--gt", gt), ("--pred", pred)):
        if path.is_dir():
            raise EvalError(f"{flag} {path} is a folder; give the path of a JSON file in it")
        if not path.is_file():
            raise EvalError(f"{flag} {path} not found (give the path of an existing JSON file)")
    body = _load_surface(gt, surface)
    t0 = time.perf_counter()
    metrics = evaluate(gt, pred, body, modes=chosen, wrong_part=wrong_part)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t0
    if as_json:
        typer.echo(json.dumps({**metrics, "eval_seconds": round(seconds, 3)}))
        return
    typer.echo(f"{pred} against {gt} (surface: {body.name}), {seconds:.2f} s")
    typer.echo(format_summary(metrics))


def register(app: typer.Typer) -> None:
    """Add the top-level ``nas eval`` command to ``app``."""
    app.command("eval")(eval_command)
