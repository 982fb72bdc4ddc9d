"""``nas data ...``: synthetic DensePose generation and visualisation."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="DensePose datasets: generate synthetic data, draw annotations.", no_args_is_help=True)


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
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Render a synthetic DensePose-COCO dataset: images/, annotations/{train,val}.json, surface.npz."""
    from nas.data.synth.generate import SynthConfig, generate_dataset
    from nas.data.synth.scene import scene_preset

    cfg = SynthConfig(images=images, size=size, seed=seed, val_fraction=val_fraction, scene=scene_preset(preset))
    s = generate_dataset(out, cfg, workers=workers, progress=progress, overwrite=overwrite)
    typer.echo(
        f"wrote {s.images} images ({s.train_images} train, {s.val_images} val), {s.annotations} annotations "
        f"({s.dp_annotations} with DensePose) to {s.out}"
    )
    typer.echo(f"  {s.all_json}\n  {s.train_json}\n  {s.val_json}\n  {s.surface}")


@app.command("show")
def show(
    directory: Path = typer.Argument(..., help="Dataset folder (images/ and annotations/)."),
    image: int = typer.Option(..., "--image", help="COCO image id to draw."),
    out: Path = typer.Option(..., "--out", help="Output PNG file."),
    annotations: Optional[Path] = typer.Option(None, "--annotations", help="Annotation JSON to use instead of DIR's."),
    images_dir: Optional[Path] = typer.Option(None, "--images-dir", help="Image folder instead of DIR/images."),
    exact: bool = typer.Option(True, "--exact/--interpolate",
                               help="Synthetic data: draw the renderer's dense ground truth, or interpolate points."),
    scale: float = typer.Option(3.0, "--scale", min=0.1, max=20.0, help="Output pixels per image pixel."),
) -> None:
    """Draw an image with its part map, U/V iso-contours, DensePose points and boxes."""
    from nas.data.show import draw_dataset_image
    from nas.data.vis import save_figure

    fig = draw_dataset_image(directory, image, annotations=annotations, image_dir=images_dir, exact=exact, scale=scale)
    save_figure(fig, out)
    typer.echo(f"wrote {out}")
