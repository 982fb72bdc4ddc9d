"""``nas data synth`` and ``nas data show``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nas.cli import main
from nas.data.synth.generate import SynthSummary


def test_synth_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ds"
    assert main(["data", "synth", "--out", str(out), "--images", "3", "--size", "64", "--seed", "5",
                 "--workers", "2", "--no-progress"]) == 0
    assert "wrote 3 images (2 train, 1 val)" in capsys.readouterr().out
    assert (out / "surface.npz").is_file() and len(list((out / "images").glob("*.jpg"))) == 3
    assert main(["data", "synth", "--out", str(out), "--images", "3", "--no-progress"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["data", "synth", "--out", str(out), "--images", "0", "--overwrite", "--no-progress"]) == 2
    assert "--images must be within 1..100,000, got 0" in capsys.readouterr().err
    assert main(["data", "synth", "--out", str(out), "--images", "2", "--preset", "crowds", "--overwrite", "--no-progress"]) == 2
    assert "unknown scene preset 'crowds'; choose from coco, proxy" in capsys.readouterr().err
    assert (out / "surface.npz").is_file()  # the refused run left the dataset as it was
    assert main(["data", "synth", "--out", str(tmp_path / "proxy"), "--images", "2", "--size", "64", "--preset", "proxy",
                 "--no-progress"]) == 0
    assert "wrote 2 images" in capsys.readouterr().out


@pytest.mark.parametrize("mode", ["--exact", "--interpolate"])
def test_show_command(synth: SynthSummary, tmp_path: Path, mode: str) -> None:
    png = tmp_path / "show.png"
    assert main(["data", "show", str(synth.out), "--image", "1", "--out", str(png), mode, "--scale", "2"]) == 0
    im = np.asarray(Image.open(png).convert("RGB"))
    assert im.shape[0] == 256 and im.shape[1] > 256
    # The overlay draws part colours and contours: the picture is not the plain image.
    plain = np.asarray(Image.open(synth.out / "images" / "000001.jpg").convert("RGB").resize((256, 256), Image.NEAREST))
    assert np.abs(im[:, :256].astype(int) - plain.astype(int)).mean() > 5


def test_show_unknown_image(synth: SynthSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "show", str(synth.out), "--image", "99", "--out", str(tmp_path / "x.png")]) == 2
    assert "image id 99 not found" in capsys.readouterr().err
