"""Reference architectures against their published sizes (ImageNet classifier, 224x224)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from nas.model import FeatureNetwork, ImageClassifier
from nas.model.complexity import count_macs, count_params
from nas.model.rcnn import build_densepose_rcnn
from nas.space.parts import NeckSpec, StageSpec
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


# name: parameters as published, where no MAC count is published beside them
PUBLISHED_PARAMS = {
    "spnasnet_100": 4.42e6,  # Single-Path NAS, the Pixel 1 network (Stamoulis et al. 2019)
}
_HEAD_CONV_1280 = StageSpec("conv", 1280, kernels=(1,), act="relu")  # SPNASNet's ImageNet head conv


@pytest.mark.parametrize("name", list(PUBLISHED_PARAMS))
def test_classification_reference_matches_published_params(name: str) -> None:
    assert count_params(ImageClassifier(reference(name), 1000)) == pytest.approx(PUBLISHED_PARAMS[name], rel=0.02)


def test_fnl_mobile_is_spnasnet_100_with_a_64_channel_bifpn() -> None:
    """The published mobile DensePose model: SPNASNet-100's features (its part matches the
    published 4.42M with the ImageNet head put back) + one depthwise BiFPN-64 layer, P2-P5."""
    fnl = reference("fnl_mobile")
    assert reference("spnasnet_100").stages == (*fnl.stages, _HEAD_CONV_1280)
    classifier = ImageClassifier(replace(fnl, stages=(*fnl.stages, _HEAD_CONV_1280)), 1000)
    assert count_params(classifier) == pytest.approx(4.42e6, rel=0.02)
    assert fnl.neck == NeckSpec("bifpn", channels=64, min_level=2, max_level=5, depthwise=True, repeats=1)
    assert fnl.head == reference("densemobile").head  # the light head every mobile baseline shares
    assert "fnl_mobile" in DENSEPOSE_BASELINES


def test_fnl_mobile_detects_at_a_small_input() -> None:
    torch.manual_seed(0)
    model = build_densepose_rcnn(reference("fnl_mobile")).eval()
    with torch.no_grad():
        (out,) = model(torch.rand(1, 3, 128, 96))
    head = reference("fnl_mobile").head
    assert out["iuv"].shape[1:] == (3, head.out, head.out) and len(out["boxes"]) == len(out["scores"]) == len(out["iuv"])
    assert torch.isfinite(out["iuv"]).all()


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
    assert size["densesqueeze"] < size["fnl_mobile"] < size["r50_fpn"] / 9


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
