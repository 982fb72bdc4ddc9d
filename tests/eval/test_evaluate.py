"""End-to-end evaluation: perfect predictions, crowd regions, keys, bad inputs."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from nas.data.rle import rle_encode
from nas.data.surface import BodySurface
from nas.errors import DataError, EvalError
from nas.eval import (
    DensePoseResult,
    check_surface_units,
    evaluate,
    ground_truth_results,
    load_ground_truth,
    metric_keys,
)
from tests.eval.conftest import toy_ground_truth


def test_perfect_predictions_score_one(gt, surface: BodySurface) -> None:
    results = ground_truth_results(gt)
    assert len(results) >= 6  # the tiny dataset has several DensePose people
    m = evaluate(gt, [r.to_json() for r in results], surface)
    assert list(m) == metric_keys()
    assert len(m) == 30
    for mode in ("gps", "gpsm", "iou"):
        for stat in ("ap", "ap50", "ap75", "ar"):
            assert m[f"{mode}_{stat}"] == pytest.approx(1.0), (mode, stat)
        for stat in ("apm", "apl", "arm", "arl"):  # 1.0, or -1 when no person falls in that range
            assert m[f"{mode}_{stat}"] == pytest.approx(1.0) or m[f"{mode}_{stat}"] == -1.0


def test_missing_detections_lower_recall(gt, surface: BodySurface) -> None:
    results = ground_truth_results(gt)
    half = results[::2]
    m = evaluate(gt, half, surface, modes=["gps"])
    n_people = len(results)
    assert m["gps_ar"] == pytest.approx(len(half) / n_people)
    assert m["gps_ap"] == pytest.approx(len(half) / n_people, abs=0.011)  # precision 1 up to that recall


def _crowd_case(with_crowd: bool) -> tuple[dict[str, Any], list[DensePoseResult]]:
    """One person (perfectly predicted, score 0.5) and a higher-scored detection inside a crowd region."""
    pts = [(float(x), float(y), 2, 0.3 + 0.01 * k, 0.5) for k, (x, y) in enumerate([(40, 40), (128, 128), (200, 90)])]
    extra = []
    if with_crowd:
        region = np.zeros((160, 120), np.uint8)
        region[20:60, 90:118] = 1
        extra = [{"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 1, "bbox": [90.0, 20.0, 28.0, 40.0],
                  "area": 1120.0, "segmentation": rle_encode(region)}]
    gt = toy_ground_truth(pts, bbox=(10.0, 10.0, 64.0, 128.0), extra=extra)
    person = ground_truth_results(load_ground_truth(gt))[0]
    person = DensePoseResult(1, 1, person.bbox, 0.5, person.iuv)
    in_crowd = DensePoseResult(1, 1, (92.0, 25.0, 20.0, 30.0), 0.9, np.full((3, 30, 20), 2, np.uint8))
    return gt, [person, in_crowd]


def test_detection_on_crowd_region_is_ignored(surface: BodySurface) -> None:
    gt, dets = _crowd_case(with_crowd=True)
    m = evaluate(gt, dets, surface)
    for mode in ("gps", "gpsm", "iou"):
        assert m[f"{mode}_ap"] == pytest.approx(1.0), mode  # neither a true nor a false positive


def test_same_detection_without_crowd_is_a_false_positive(surface: BodySurface) -> None:
    gt, dets = _crowd_case(with_crowd=False)
    m = evaluate(gt, dets, surface)
    # Ranked first and wrong: precision 1/2 at the only recall level reached, so AP = 0.5.
    for mode in ("gps", "gpsm", "iou"):
        assert m[f"{mode}_ap"] == pytest.approx(0.5), mode
        assert m[f"{mode}_ar"] == pytest.approx(1.0), mode


def test_image_ids_restrict_evaluation(gt, surface: BodySurface) -> None:
    results = ground_truth_results(gt)
    first = results[0].image_id
    only = [r for r in results if r.image_id == first]
    assert evaluate(gt, only, surface, modes=["gps"], image_ids=[first])["gps_ap"] == pytest.approx(1.0)
    assert evaluate(gt, only, surface, modes=["gps"])["gps_ar"] < 1.0


def test_results_for_unknown_images_or_categories(gt, surface: BodySurface) -> None:
    r = ground_truth_results(gt)[0]
    with pytest.raises(EvalError, match=r"results entry 0, field 'image_id': image 999 is not in"):
        evaluate(gt, [DensePoseResult(999, 1, r.bbox, 1.0, r.iuv)], surface)
    with pytest.raises(EvalError, match=r"field 'category_id': category 5 is not in .* \(known: 1\)"):
        evaluate(gt, [DensePoseResult(r.image_id, 5, r.bbox, 1.0, r.iuv)], surface)
    with pytest.raises(EvalError, match="unknown evaluation mode"):
        evaluate(gt, [], surface, modes=["ogps"])


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("dp_I", [0.0, 2.0, 2.0], "field 'dp_I': value 0 is not a part number"),
        ("dp_U", [0.1, 0.2], "field 'dp_U': has 2 values but dp_x has 3"),
        ("dp_x", [1.0, 2.0, 300.0], "field 'dp_x': value 300 is outside [0, 256]"),
        ("bbox", [0, 0, 10], "field 'bbox': expected [x, y, width, height]"),
        ("image_id", 42, "field 'image_id': no image with this id"),
    ],
)
def test_malformed_ground_truth(field: str, value: Any, words: str, surface: BodySurface) -> None:
    gt = toy_ground_truth([(10.0, 10.0, 2, 0.5, 0.5)] * 3)
    gt["annotations"][0][field] = value
    with pytest.raises(DataError) as err:
        evaluate(gt, [], surface)
    assert "annotation id 1" in str(err.value) and words in str(err.value), str(err.value)


def test_malformed_ground_truth_masks_and_files(tmp_path, surface: BodySurface) -> None:
    gt = toy_ground_truth([(10.0, 10.0, 2, 0.5, 0.5)] * 3)
    gt["annotations"][0]["dp_masks"][0] = {"size": [256, 256], "counts": [5, 3]}
    det = ground_truth_results(load_ground_truth(toy_ground_truth([(10.0, 10.0, 2, 0.5, 0.5)] * 3)))
    with pytest.raises(DataError, match=r"annotation id 1, field 'dp_masks\[0\]': bad RLE mask"):
        evaluate(gt, det, surface)
    with pytest.raises(DataError, match="not found"):
        evaluate(tmp_path / "nope.json", [], surface)
    with pytest.raises(DataError, match="not a COCO file"):
        evaluate({"images": []}, [], surface)


def test_surface_units_are_checked(synth) -> None:
    with np.load(synth.surface) as z:
        arrays = {k: z[k] for k in z.files}
    metres = BodySurface(arrays["part"], arrays["uv"], arrays["xyz"], edges=arrays["edges"],
                         edge_length=arrays["edge_length"])
    g = check_surface_units(metres)
    assert g is not None and 1.6 < g < 2.6  # head top to sole of a 1.76 m mannequin
    cm = BodySurface(arrays["part"], arrays["uv"], arrays["xyz"] * 100, edges=arrays["edges"],
                     edge_length=arrays["edge_length"] * 100, name="scaled")
    with pytest.raises(EvalError, match="metres"):
        evaluate(toy_ground_truth([(10.0, 10.0, 2, 0.5, 0.5)]), [], cm)


def test_ground_truth_is_not_modified(gt_dict: dict[str, Any], surface: BodySurface) -> None:
    before = copy.deepcopy(gt_dict)
    evaluate(gt_dict, ground_truth_results(load_ground_truth(gt_dict)), surface)
    assert gt_dict == before
