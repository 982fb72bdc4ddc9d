"""``nas data ...``: synthetic DensePose generation, dataset checks and visualisation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from nas.data.check import DatasetReport
    from nas.data.synth.generate import SynthConfig

app = typer.Typer(help="DensePose datasets: generate synthetic data, check a dataset, draw annotations.",
                  no_args_is_help=True)

LAYOUTS = ("folder", "densepose-coco")


@app.command("synth")
def synth(
    out: Path = typer.Option(..., "--out", help="Output dataset folder."),
    images: int = typer.Option(..., "--images", help="Number of images to render."),
    size: int = typer.Option(256, "--size", help="Image side in pixels (square images)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Dataset seed; same seed, same dataset, any --workers."),
    workers: int = typer.Option(1, "--workers", help="Rendering processes."),
    val_fraction: float = typer.Option(0.2, "--val-fraction", help="Share of images in annotations/val.json."),
    preset: str = typer.Option("coco", "--preset", help="Scenes: coco (1-4 people, any pose, crowds, occluders, clutter), "
                               "proxy (one large person facing the camera, plain background: what searches train on) "
                               "or medium (up to 2 people turned up to 90 degrees, occluders, clutter)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a dataset already in --out."),
    layout: str = typer.Option("folder", "--layout", help="folder: images/, annotations/{train,val}.json, surface.npz; "
                               "densepose-coco: DensePose-COCO's own layout (train2014/, val2014/, "
                               "annotations/densepose_coco_2014_{train,minival}.json, the evaluation files made from "
                               "the synthetic body) plus dataset.yaml, the descriptor to give --data."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Render a synthetic DensePose-COCO dataset: images/, annotations/{train,val}.json, surface.npz."""
    from nas.data.synth.generate import SynthConfig, generate_dataset
    from nas.data.synth.scene import scene_preset
    from nas.errors import DataError
    from nas.io import excerpt

    if layout not in LAYOUTS:
        raise DataError(f"unknown --layout {excerpt(layout)}; choose from {', '.join(LAYOUTS)}")
    cfg = SynthConfig(images=images, size=size, seed=seed, val_fraction=val_fraction, scene=scene_preset(preset))
    if layout == "densepose-coco":
        _synth_official(out, cfg, workers, progress, overwrite)
        return
    s = generate_dataset(out, cfg, workers=workers, progress=progress, overwrite=overwrite)
    typer.echo(
        f"wrote {s.images} images ({s.train_images} train, {s.val_images} val), {s.annotations} annotations "
        f"({s.dp_annotations} with DensePose) to {s.out}"
    )
    typer.echo(f"  {s.all_json}\n  {s.train_json}\n  {s.val_json}\n  {s.surface}")


def _synth_official(out: Path, cfg: SynthConfig, workers: int, progress: bool, overwrite: bool) -> None:
    from nas.data.official import synth_official_layout

    s, w = synth_official_layout(out, cfg, workers=workers, progress=progress, overwrite=overwrite)
    typer.echo(f"wrote {s.images} images ({w.train_images} train, {w.val_images} val), {s.annotations} annotations "
               f"({s.dp_annotations} with DensePose) to {w.out} in DensePose-COCO's layout")
    typer.echo(f"  {w.train_json}\n  {w.val_json}\n  {w.surface}/\n  {w.descriptor}  (give it to --data)")


_MAX_ERROR_LINES = 100  # problems printed one per line; the rest are counted (--json lists all)


@app.command("check")
def check(
    data: Path = typer.Argument(..., help="Dataset: a folder written by `nas data synth`, or a descriptor YAML."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary (and any problems) as JSON."),
    images: bool = typer.Option(True, "--images/--no-images", help="Read every image file's header (existence, format, "
                                "size); --no-images checks the annotation files and the surface only."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar over the image files."),
) -> None:
    """Validate a dataset and summarise it: images per split, people with and without DensePose points, crowd regions,
    points per person, missing images, the body surface. Each problem is one 'error:' line (exit 2)."""
    import json

    from nas.data.check import inspect_dataset

    report = inspect_dataset(data, images=images, progress=progress)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        for line in _summary_lines(report):
            typer.echo(line)
    if report.ok:
        return
    for problem in report.problems[:_MAX_ERROR_LINES]:
        typer.echo(f"error: {problem}", err=True)
    rest = len(report.problems) - _MAX_ERROR_LINES
    if rest > 0:
        typer.echo(f"error: {rest} more problems not shown (`nas data check {data} --json` lists them all)", err=True)
    raise typer.Exit(2)


def _summary_lines(report: DatasetReport) -> list[str]:
    lines = [f"dataset {report.origin} ({report.form})"]
    for s in report.splits:
        missing = "" if s.images_missing is None else f" ({s.images_missing} missing)"
        points = ("no DensePose points" if s.points_min is None
                  else f"points per person: median {s.points_median:g}, min {s.points_min}")
        lines.append(f"  {s.name}: {s.images} images{missing}, {s.people} people ({s.people_with_points} with DensePose "
                     f"points, {s.people_without_points} without), {s.crowd_regions} crowd regions; {points}")
        lines.append(f"    {s.annotations} over {s.images_dir}")
    kind = "DensePose's evaluation files" if report.surface_kind == "densepose" else "surface.npz"
    if report.surface_vertices is None:
        lines.append(f"  surface: {kind} at {report.surface} (not readable)")
    else:
        flips = "flips on" if report.surface_symmetry else "no symmetry: flips off"
        lines.append(f"  surface: {kind}, {report.surface_vertices} vertices, {flips} ({report.surface})")
    checked = "image files checked" if report.images_checked else "image files not checked (--no-images)"
    verdict = "no problems found" if report.ok else f"{len(report.problems)} problem{'s' if len(report.problems) > 1 else ''}"
    lines.append(f"{verdict}; {checked}")
    return lines


@app.command("show")
def show(
    directory: Path = typer.Argument(..., help="Dataset folder (images/ and annotations/)."),
    image: int = typer.Option(..., "--image", help="COCO image id to draw."),
    out: Path = typer.Option(..., "--out", help="Output PNG file (a name ending in .png)."),
    annotations: Optional[Path] = typer.Option(None, "--annotations", help="Annotation JSON to use instead of DIR's."),
    images_dir: Optional[Path] = typer.Option(None, "--images-dir", help="Image folder instead of DIR/images."),
    exact: bool = typer.Option(True, "--exact/--interpolate",
                               help="Synthetic data: draw the renderer's dense ground truth, or interpolate points."),
    scale: float = typer.Option(3.0, "--scale", min=0.1, max=20.0, help="Output pixels per image pixel."),
) -> None:
    """Draw an image with its part map, U/V iso-contours, DensePose points and boxes."""
    from nas.errors import DataError

    if out.is_dir():
        raise DataError(f"--out {out} is a folder; give the PNG file to write, e.g. --out {out / f'image{image}.png'}")
    if out.suffix.lower() != ".png":  # the drawing is a PNG whatever the name says
        raise DataError(f"--out {out}: nas data show writes a PNG image; give a file name ending in .png")
    from nas.data.show import draw_dataset_image
    from nas.data.vis import save_figure

    fig = draw_dataset_image(directory, image, annotations=annotations, image_dir=images_dir, exact=exact, scale=scale)
    save_figure(fig, out)
    typer.echo(f"wrote {out}")
