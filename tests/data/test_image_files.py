"""Image files that exist but are no image: the dataset says which file, which image and
what is wrong with it (PIL's OSError reached users as advice to check paths)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from nas.data.dataset import DensePoseDataset
from nas.data.image import read_rgb
from nas.data.synth.generate import SynthSummary
from nas.errors import DataError

from .conftest import TINY


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,name\n1,person\n", "not an image file: cannot decode {path} (in no image format PIL reads; a text file?)"),
        (b"", "not an image file: cannot decode {path} (the file is empty)"),
        ("cut", "damaged image file: cannot decode {path} ("),
    ],
    ids=["text", "empty", "cut-short"],
)
def test_a_dataset_image_that_is_no_image_is_named(synth: SynthSummary, tmp_path: Path, content: bytes | str,
                                                   message: str) -> None:
    ds = tmp_path / "ds"
    shutil.copytree(synth.out, ds)
    path = ds / "images" / "000002.jpg"
    path.write_bytes(path.read_bytes()[:300] if content == "cut" else content)
    dataset = DensePoseDataset(ds / "annotations.json", ds / "images", train=False)
    with pytest.raises(DataError) as exc:
        dataset[dataset.image_ids.index(2)]
    assert str(exc.value).startswith("image id 2: " + message.format(path=path)), str(exc.value)


def test_an_image_of_another_size_than_its_entry_is_named(synth: SynthSummary, tmp_path: Path) -> None:
    """Boxes, masks and points are in the frame the JSON gives: a file of another size
    would have trained on misplaced targets without a word."""
    ds = tmp_path / "ds"
    shutil.copytree(synth.out, ds)
    data = json.loads((ds / "annotations.json").read_text())
    data["images"][1].update(width=999, height=998)
    (ds / "annotations.json").write_text(json.dumps(data))
    dataset = DensePoseDataset(ds / "annotations.json", ds / "images", train=False)
    dataset[dataset.image_ids.index(1)]  # untouched entries still load
    with pytest.raises(DataError, match=re.escape(f"image id 2: image file {ds / 'images' / '000002.jpg'} is {TINY.size}x"
                                                  f"{TINY.size} pixels but the annotations give width 999, height 998")):
        dataset[dataset.image_ids.index(2)]


def test_a_folder_or_a_missing_file_is_named(tmp_path: Path) -> None:
    """(The annotation loader finds both first; a file removed since is found here.)"""
    with pytest.raises(DataError, match=re.escape(f"image id 7: {tmp_path} is a folder, not an image file")):
        read_rgb(tmp_path, 7)
    with pytest.raises(DataError, match=re.escape(f"image id 7: image file {tmp_path / 'gone.jpg'} does not exist")):
        read_rgb(tmp_path / "gone.jpg", 7)


def test_a_whole_image_reads_as_rgb(synth: SynthSummary) -> None:
    image = read_rgb(synth.out / "images" / "000001.jpg", 1)
    assert image.shape == (TINY.size, TINY.size, 3) and image.dtype == np.uint8 and image.flags.writeable
