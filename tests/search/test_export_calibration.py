"""int8 calibration images: real training images of a dataset, as the feature network takes them."""

from __future__ import annotations

import pytest
import torch

from nas.data import DensePoseDataset
from nas.data.source import DatasetSource
from nas.errors import ExportError
from nas.export.calibration import calibration_inputs, feature_agreement, normalise


def test_calibration_inputs_are_normalised_training_images(tiny_dataset):
    batches = calibration_inputs(tiny_dataset, (96, 64), count=3, seed=1)
    assert len(batches) == 3 and all(len(b) == 1 and b[0].shape == (1, 3, 96, 64) and b[0].is_contiguous() for b in batches)
    train = DatasetSource.load(tiny_dataset).train
    dataset = DensePoseDataset(train.annotations, train.images, input_size=(96, 64), train=False)
    images = [dataset[i][0] for i in range(len(dataset))]
    for (x,) in batches:  # each is one of the dataset's images, normalised
        assert any(torch.allclose(x, normalise(img.unsqueeze(0))) for img in images)
    # ImageNet statistics by hand: a mid-grey pixel of 0.5 in the red channel -> (0.5 - 0.485) / 0.229
    grey = normalise(torch.full((1, 3, 1, 1), 0.5))
    assert float(grey[0, 0, 0, 0]) == pytest.approx(0.015 / 0.229)
    again = calibration_inputs(tiny_dataset, (96, 64), count=3, seed=1)  # seeded: the same choice
    assert all(torch.equal(a[0], b[0]) for a, b in zip(again, batches))


def test_calibration_count_is_capped_by_the_dataset(tiny_dataset):
    assert len(calibration_inputs(tiny_dataset, (64, 64), count=1000)) == 8  # the tiny dataset's training images


def test_calibration_from_a_folder_without_a_dataset(tmp_path):
    with pytest.raises(ExportError, match=f"int8 calibration images: dataset folder {tmp_path} lacks"):
        calibration_inputs(tmp_path, (64, 64))


def test_feature_agreement_by_hand():
    ref = [torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, -1.0]])]
    assert feature_agreement([2 * r for r in ref], ref) == pytest.approx((1.0, 1.0))  # |2r - r| / |r| = 1; same direction
    error, cosine = feature_agreement([torch.tensor([[2.0, -1.0]]), torch.tensor([[0.0, 0.0]])], ref)
    assert cosine == pytest.approx(0.0)  # (1, 2, 0, -1) . (2, -1, 0, 0) = 0
    assert error == pytest.approx((1 + 3 + 0 + 1) / 4)


def test_validation_split(tiny_dataset):
    assert len(calibration_inputs(tiny_dataset, (64, 64), count=1000, split="val")) == 2  # the tiny dataset's validation images


def test_a_descriptor_gives_the_images_of_the_folder_it_was_built_from(tiny_dataset, tmp_path):
    from tests.train.descriptor import split_descriptor

    descriptor = split_descriptor(tiny_dataset, tmp_path / "coco")
    for split in ("train", "val"):  # each split from its own image folder
        by_descriptor = calibration_inputs(descriptor, (96, 64), count=3, seed=1, split=split)
        by_folder = calibration_inputs(tiny_dataset, (96, 64), count=3, seed=1, split=split)
        assert len(by_descriptor) == len(by_folder) > 0
        assert all(torch.equal(a[0], b[0]) for a, b in zip(by_descriptor, by_folder))
    (descriptor.parent / "annotations" / "dp_train.json").unlink()
    with pytest.raises(ExportError, match=r"int8 calibration images: .*dataset\.yaml: train\.annotations .* does not exist"):
        calibration_inputs(descriptor, (96, 64))
