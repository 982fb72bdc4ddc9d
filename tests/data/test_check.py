"""``nas data check`` and :func:`nas.data.check.check_dataset` on sound and broken datasets."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any, Callable

import pytest
from PIL import Image

from nas.cli import main
from nas.data.check import DatasetReport, check_dataset, inspect_dataset
from nas.data.official import OfficialLayout
from nas.data.synth.generate import SynthSummary
from nas.errors import DataError

from .conftest import read_json, write_json


def expected_counts(ann_json: Path) -> dict[str, Any]:
    """The summary of one split, counted straight from its JSON."""
    data = read_json(ann_json)
    people = [a for a in data["annotations"] if not a["iscrowd"]]
    points = [len(a["dp_x"]) for a in people if a.get("dp_x")]
    return {"images": len(data["images"]), "images_missing": 0, "people": len(people),
            "people_with_points": len(points), "people_without_points": len(people) - len(points),
            "crowd_regions": sum(1 for a in data["annotations"] if a["iscrowd"]),
            "points_median": float(statistics.median(points)), "points_min": min(points)}


def assert_counts(report: DatasetReport, jsons: dict[str, Path]) -> None:
    for name, path in jsons.items():
        got = report.split(name)
        want = expected_counts(path)
        assert {k: getattr(got, k) for k in want} == want, name


def add_crowd_region(ds: Path) -> None:
    """A crowd region over image 1 (the tiny set has none), to count."""
    path, data = _ann(ds)
    crowd = {k: v for k, v in data["annotations"][0].items() if not k.startswith("dp_")}
    data["annotations"].append({**crowd, "id": 1000, "iscrowd": 1})
    write_json(path, data)


def test_folder_summary(synth_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_crowd_region(synth_copy)
    assert main(["data", "check", str(synth_copy), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    train = expected_counts(synth_copy / "annotations" / "train.json")
    assert (f"train: {train['images']} images (0 missing), {train['people']} people ({train['people_with_points']} with "
            f"DensePose points, {train['people_without_points']} without), {train['crowd_regions']} crowd regions; "
            f"points per person: median {train['points_median']:g}, min {train['points_min']}") in out
    assert "surface: surface.npz, 4086 vertices, flips on" in out and "no problems found" in out
    report = check_dataset(synth_copy)
    assert report.ok and report.form == "folder" and report.surface_kind == "npz" and report.surface_vertices == 4086
    assert_counts(report, {"train": synth_copy / "annotations" / "train.json", "val": synth_copy / "annotations" / "val.json"})
    # the tiny set has all three kinds of annotation, so the counts above are tested for real
    assert report.split("train").people_without_points + report.split("val").people_without_points > 0
    assert sum(s.crowd_regions for s in report.splits) > 0


def test_descriptor_summary_and_json(official: OfficialLayout, synth: SynthSummary,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", str(official.descriptor), "--json", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    data = json.loads(out)
    assert data["ok"] and data["problems"] == [] and data["form"] == "descriptor"
    assert data["surface_kind"] == "densepose" and data["surface_vertices"] == 4086 and data["surface_symmetry"] is True
    report = inspect_dataset(official.descriptor)
    assert data == json.loads(json.dumps(report.to_json()))
    assert_counts(report, {"train": official.train_json, "val": official.val_json})
    # the same people as the folder it was written from
    folder = inspect_dataset(synth.out)
    for a, b in zip(report.splits, folder.splits):
        assert (a.images, a.people, a.people_with_points, a.crowd_regions, a.points_median) == \
            (b.images, b.people, b.people_with_points, b.crowd_regions, b.points_median)
    assert data["splits"][0]["images_dir"] == str(official.out / "train2014")


def _ann(ds: Path, split: str = "train") -> tuple[Path, dict[str, Any]]:
    path = ds / "annotations" / f"{split}.json"
    return path, read_json(path)


def text_as_jpg(ds: Path) -> list[str]:
    (ds / "images" / "000002.jpg").write_text("this is not a picture\n")
    return ["000002.jpg", "image id 2", "not an image file"]


def empty_image(ds: Path) -> list[str]:
    (ds / "images" / "000003.jpg").write_bytes(b"")
    return ["000003.jpg", "image id 3", "is empty (0 bytes)"]


def size_mismatch(ds: Path) -> list[str]:
    Image.new("RGB", (64, 48)).save(ds / "images" / "000001.jpg")
    return ["000001.jpg", "image id 1", "is 64x48 pixels but the annotation file gives width 128, height 128"]


def json_size_mismatch(ds: Path) -> list[str]:
    path, data = _ann(ds, "val")
    data["images"][0]["width"] = 999
    write_json(path, data)
    img = data["images"][0]
    return [img["file_name"], f"image id {img['id']}", "width 999"]


def bad_dp_rle(ds: Path) -> list[str]:
    path, data = _ann(ds)
    ann = next(a for a in data["annotations"] if "dp_masks" in a)
    k = next(i for i, m in enumerate(ann["dp_masks"]) if m)
    ann["dp_masks"][k]["counts"] = ann["dp_masks"][k]["counts"][:-3]
    write_json(path, data)
    return ["train.json", f"annotation id {ann['id']}", f"dp_masks[{k}]", "bad RLE mask"]


def bad_segmentation_rle(ds: Path) -> list[str]:
    path, data = _ann(ds)
    ann = data["annotations"][0]
    ann["segmentation"] = {"size": [128, 128], "counts": [10, 20]}
    write_json(path, data)
    return ["train.json", f"annotation id {ann['id']}", "'segmentation'", "sum to 30, expected height*width = 16384"]


def mask_size_mismatch(ds: Path) -> list[str]:
    path, data = _ann(ds)
    anns = [a for a in data["annotations"] if a["image_id"] == 1]
    for a in anns:
        a["segmentation"] = {"size": [64, 256], "counts": [64 * 256]}
    write_json(path, data)
    return ["train.json", "image id 1", f"annotation id {anns[0]['id']}", "RLE mask is 64x256 but the image is 128x128"]


def bad_polygon(ds: Path) -> list[str]:
    path, data = _ann(ds)
    ann = data["annotations"][1]
    ann["segmentation"] = [[1, 2, 3, 4, 5]]
    write_json(path, data)
    return ["train.json", f"annotation id {ann['id']}", "polygon 0"]


def duplicate_image_id(ds: Path) -> list[str]:
    path, data = _ann(ds)
    data["images"].append(dict(data["images"][0]))
    write_json(path, data)
    return ["train.json", f"image id {data['images'][0]['id']}", "given twice"]


def duplicate_annotation_id(ds: Path) -> list[str]:
    path, data = _ann(ds)
    data["annotations"][2]["id"] = data["annotations"][0]["id"]
    write_json(path, data)
    return ["train.json", f"annotation id {data['annotations'][0]['id']}", "given twice"]


def unknown_image(ds: Path) -> list[str]:
    path, data = _ann(ds)
    data["annotations"][0]["image_id"] = 999
    write_json(path, data)
    return ["train.json", "image id 999", f"annotation id {data['annotations'][0]['id']}", "unknown image"]


def missing_image(ds: Path) -> list[str]:
    (ds / "images" / "000004.jpg").unlink()
    return ["000004.jpg", "image id 4", "not found"]


def dp_lengths(ds: Path) -> list[str]:
    path, data = _ann(ds)
    ann = next(a for a in data["annotations"] if "dp_x" in a)
    ann["dp_V"] = ann["dp_V"][:-1]
    write_json(path, data)
    return ["train.json", f"annotation id {ann['id']}", "'dp_V'", "same length"]


def dp_u_range(ds: Path) -> list[str]:
    path, data = _ann(ds, "val")
    ann = next(a for a in data["annotations"] if "dp_x" in a)
    ann["dp_U"][3] = 1.5
    write_json(path, data)
    return ["val.json", f"annotation id {ann['id']}", "'dp_U'", "outside [0, 1]"]


def not_json(ds: Path) -> list[str]:
    (ds / "annotations" / "val.json").write_text("{\"images\": [")
    return ["val.json", "not a readable JSON file"]


BAD = [text_as_jpg, empty_image, size_mismatch, json_size_mismatch, bad_dp_rle, bad_segmentation_rle, mask_size_mismatch,
       bad_polygon,
       duplicate_image_id, duplicate_annotation_id, unknown_image, missing_image, dp_lengths, dp_u_range, not_json]


@pytest.mark.parametrize("corrupt", BAD, ids=[f.__name__ for f in BAD])
def test_each_problem_is_one_error_line(synth_copy: Path, corrupt: Callable[[Path], list[str]],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    words = corrupt(synth_copy)
    assert main(["data", "check", str(synth_copy), "--no-progress"]) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert "1 problem;" in out  # the summary is still printed
    with pytest.raises(DataError) as exc:
        check_dataset(synth_copy)
    assert str(exc.value) == lines[0].removeprefix("error: ")


def test_problems_are_all_listed(synth_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing_image(synth_copy)
    text_as_jpg(synth_copy)
    unknown_image(synth_copy)
    assert main(["data", "check", str(synth_copy), "--json", "--no-progress"]) == 2
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 3 and all(line.startswith("error: ") for line in err.splitlines())
    data = json.loads(out)
    assert not data["ok"] and len(data["problems"]) == 3 and data["splits"][0]["images_missing"] == 1
    with pytest.raises(DataError, match=r"\(and 2 more problems: `nas data check .*` lists them\)"):
        check_dataset(synth_copy)
    # the annotation files alone are sound but for the unknown image
    assert len(inspect_dataset(synth_copy, images=False).problems) == 1


def test_broken_surface_is_a_problem(synth_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (synth_copy / "surface.npz").write_bytes(b"PK\x03\x04 not really")
    assert main(["data", "check", str(synth_copy), "--no-progress"]) == 2
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and "surface.npz: not a readable body surface" in err
    assert "(not readable)" in out


def _descriptor(tmp: Path, official: OfficialLayout, text: str) -> Path:
    path = tmp / "dataset.yaml"
    path.write_text(text.replace("ROOT", str(official.out)))
    return path


GOOD = ("train:\n  annotations: ROOT/annotations/densepose_coco_2014_train.json\n  images: ROOT/train2014\n"
        "val:\n  annotations: ROOT/annotations/densepose_coco_2014_minival.json\n  images: ROOT/val2014\n"
        "surface: SURFACE\n")


@pytest.mark.parametrize(("text", "words"), [
    (GOOD.replace("surface: SURFACE\n", ""), ["missing surface"]),
    (GOOD.replace("  images: ROOT/val2014\n", ""), ["missing val.images"]),
    (GOOD.replace("ROOT/train2014", "ROOT/train2017"), ["train.images", "train2017 does not exist"]),
    (GOOD.replace("SURFACE", "ROOT/nowhere"), ["surface", "nowhere does not exist"]),
    (GOOD.replace("SURFACE", "LACKING"), ["lacks Pdist_matrix.pkl"]),
])
def test_bad_descriptor_is_one_error(official: OfficialLayout, tmp_path: Path, text: str, words: list[str],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    lacking = tmp_path / "eval"
    lacking.mkdir()
    for name in ("SMPL_subdiv.mat", "SMPL_SUBDIV_TRANSFORM.mat"):
        (lacking / name).symlink_to(official.surface / name)
    path = _descriptor(tmp_path, official, text.replace("SURFACE", str(official.surface)).replace("LACKING", str(lacking)))
    assert main(["data", "check", str(path), "--no-progress"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and err.startswith(f"error: {path}: ")
    for w in words:
        assert w in err, (w, err)


def test_the_good_descriptor_checks(official: OfficialLayout, tmp_path: Path) -> None:
    path = _descriptor(tmp_path, official, GOOD.replace("SURFACE", str(official.surface)))
    assert check_dataset(path).ok
