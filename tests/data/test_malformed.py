"""Malformed annotations fail with errors naming image id, annotation id and field."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable

import pytest

from nas.data import DensePoseDataset
from nas.data.coco import load_densepose_coco
from nas.errors import DataError

from .conftest import read_json, write_json


def _corrupt(folder: Path, edit: Callable[[dict[str, Any]], None]) -> tuple[Path, dict[str, Any]]:
    """Apply ``edit`` to the first DensePose annotation of train.json; return it."""
    path = folder / "annotations" / "train.json"
    data = read_json(path)
    ann = next(a for a in data["annotations"] if "dp_I" in a)
    edit(ann)
    write_json(path, data)
    return path, ann


def _ids(ann: dict[str, Any]) -> str:
    return f"image id {ann['image_id']}, annotation id {ann['id']}"


def test_dp_i_out_of_range(synth_copy: Path) -> None:
    path, ann = _corrupt(synth_copy, lambda a: a["dp_I"].__setitem__(3, 25))
    with pytest.raises(DataError) as exc:
        DensePoseDataset(path, synth_copy / "images")
    msg = str(exc.value)
    assert _ids(ann) in msg and "'dp_I'" in msg and "1..24" in msg and "index 3" in msg


def test_mismatched_list_lengths(synth_copy: Path) -> None:
    path, ann = _corrupt(synth_copy, lambda a: a["dp_U"].pop())
    with pytest.raises(DataError, match=r"field 'dp_U'.*same length") as exc:
        DensePoseDataset(path, synth_copy / "images")
    assert _ids(ann) in str(exc.value)


def test_u_out_of_range_and_missing_field(synth_copy: Path) -> None:
    path, ann = _corrupt(synth_copy, lambda a: a["dp_V"].__setitem__(0, 1.5))
    with pytest.raises(DataError, match=r"field 'dp_V'.*outside \[0, 1\]"):
        load_densepose_coco(path, synth_copy / "images")
    path, ann = _corrupt(synth_copy, lambda a: a.pop("dp_x"))
    with pytest.raises(DataError, match=r"field 'dp_x'.*missing"):
        load_densepose_coco(path, synth_copy / "images")


@pytest.mark.parametrize(
    "counts, why",
    [("not-an-rle{{", "invalid character"), ("0", "sum to"), ([10, 20], "sum to")],
)
def test_bad_rle(synth_copy: Path, counts: Any, why: str) -> None:
    def edit(a: dict[str, Any]) -> None:
        k = next(i for i, m in enumerate(a["dp_masks"]) if m)
        a["dp_masks"][k] = {"size": [256, 256], "counts": counts}
        a["_bad"] = k

    path, ann = _corrupt(synth_copy, edit)
    ds = DensePoseDataset(path, synth_copy / "images", train=False)
    idx = ds.image_ids.index(ann["image_id"])
    with pytest.raises(DataError) as exc:
        ds[idx]
    msg = str(exc.value)
    assert _ids(ann) in msg and f"dp_masks[{ann['_bad']}]" in msg and why in msg


def test_wrong_number_of_masks(synth_copy: Path) -> None:
    path, ann = _corrupt(synth_copy, lambda a: a["dp_masks"].pop())
    with pytest.raises(DataError, match=r"'dp_masks'.*14 RLE masks.*13 entries"):
        load_densepose_coco(path, synth_copy / "images")


def test_missing_image_file(synth_copy: Path) -> None:
    (synth_copy / "images" / "000002.jpg").unlink()
    with pytest.raises(DataError) as exc:
        DensePoseDataset(synth_copy / "annotations" / "train.json", synth_copy / "images")
    msg = str(exc.value)
    assert "image id 2" in msg and "annotation ids" in msg and "'file_name'" in msg and "000002.jpg" in msg


def test_skip_mode_counts_and_warns(synth_copy: Path) -> None:
    path, ann = _corrupt(synth_copy, lambda a: a["dp_I"].__setitem__(0, 0))
    (synth_copy / "images" / "000003.jpg").unlink()
    with pytest.warns(UserWarning, match=r"skipped malformed entries \(1 annotation, 1 missing image\)"):
        ds = DensePoseDataset(path, synth_copy / "images", on_error="skip")
    assert 3 not in ds.image_ids
    assert ann["id"] not in [i.ann_id for r in ds.records for i in r.instances]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(len(ds)):
            ds[k]


def test_not_a_coco_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="not a COCO file"):
        load_densepose_coco(tmp_path / "a.json", tmp_path)
    (tmp_path / "b.json").write_text("{oops")
    with pytest.raises(DataError, match="not a readable JSON"):
        load_densepose_coco(tmp_path / "b.json", tmp_path)
