"""Reference architectures against their published sizes (ImageNet classifier, 224x224)."""

from __future__ import annotations

import pytest
import torch

from nas.model import FeatureNetwork, ImageClassifier
from nas.model.complexity import count_macs, count_params
from nas.space.references import DENSEPOSE_BASELINES, REFERENCES, reference, resolve_arch
from nas.errors import SpecError

# name: (params, MACs) as published; fvcore counts one MAC per multiply-add.
PUBLISHED = {
    "mobilenet_v2": (3.50e6, 300e6),
    "mobilenet_v3_large": (5.48e6, 217e6),
    "squeezenet1_1": (1.235e6, 0.35e9),
    "mixnet_s": (4.13e6, 256e6),
    "resnet50": (25.56e6, 4.09e9),
}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_classification_reference_matches_published_size(name: str) -> None:
    params, macs = PUBLISHED[name]
    model = ImageClassifier(reference(name), 1000)
    assert count_params(model) == pytest.approx(params, rel=0.02)
    assert count_macs(model, torch.randn(1, 3, 224, 224)) == pytest.approx(macs, rel=0.02)


def test_mobilenet_v2_is_exactly_torchvision_sized() -> None:
    """3,504,872 parameters is torchvision's mobilenet_v2 count to the unit."""
    assert count_params(ImageClassifier(reference("mobilenet_v2"), 1000)) == 3_504_872


@pytest.mark.parametrize("name", DENSEPOSE_BASELINES)
def test_densepose_baselines_give_pyramids(name: str) -> None:
    arch = reference(name)
    model = FeatureNetwork(arch).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 128, 96))
    assert sorted(out) == [f"p{lvl}" for lvl in arch.neck.levels]
    assert {f.shape[1] for f in out.values()} == {arch.neck.channels}


def test_baselines_order_by_size() -> None:
    size = {n: count_params(FeatureNetwork(reference(n))) for n in DENSEPOSE_BASELINES}
    assert size["densesqueeze"] < size["densemobile"] < size["r50_fpn"]


def test_resolve_accepts_names_strings_json_and_files(tmp_path) -> None:
    arch = reference("densemobile")
    assert resolve_arch("densemobile") == arch
    assert resolve_arch(arch.to_string()) == arch
    assert resolve_arch(arch.to_json()) == arch
    path = tmp_path / "arch.json"
    path.write_text(arch.to_json(indent=2))
    assert resolve_arch(str(path)) == arch
    with pytest.raises(SpecError, match="known names: mobilenet_v2"):
        resolve_arch("mobilenet_v4")
    with pytest.raises(SpecError, match="does not exist"):
        resolve_arch(str(tmp_path / "missing.json"))


def test_every_reference_builds() -> None:
    for name in REFERENCES:
        FeatureNetwork(reference(name))
