"""Contract tests over the neck registry: levels, channels, strides, any backbone."""

from __future__ import annotations

import math

import pytest
import torch

from nas.errors import SpecError
from nas.model import FeatureNetwork, neck_names
from nas.model.complexity import count_params
from nas.model.necks import NECKS, register_neck
from nas.space import decode
from nas.space.neck_variants import NECK_VARIANTS
from nas.space.spec import NeckSpec

BACKBONE = "stem_k3_c16_s2_relu+ir_k3_e3_c24_n1_s2_relu+mix_k3.5_e3_c32_n1_s2_relu+fire_sq16_c64_n1_s2_relu+dw_k3_c96_n1_s2_relu"


def _neck_token(variant: str, levels: tuple[int, int], depthwise: bool, repeats: int = 1) -> str:
    if not NECK_VARIANTS.get(variant).multi_level:
        return f"{variant}_c32_l4.4"
    token = f"{variant}_c32_l{levels[0]}.{levels[1]}"
    return token + ("_dw" if depthwise else "") + (f"_r{repeats}" if repeats > 1 else "")


@pytest.mark.parametrize("variant", neck_names())
@pytest.mark.parametrize("levels", [(2, 5), (3, 6), (2, 4)])
@pytest.mark.parametrize("depthwise", [False, True])
@pytest.mark.parametrize("size", [(128, 96), (100, 75)])
def test_levels_channels_and_strides(variant: str, levels: tuple[int, int], depthwise: bool, size: tuple[int, int]) -> None:
    repeats = 2 if NECK_VARIANTS.get(variant).repeats else 1
    arch = decode(f"{BACKBONE}+{_neck_token(variant, levels, depthwise, repeats)}")
    model = FeatureNetwork(arch).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, *size))
    shapes = model.output_shape()
    assert list(out) == list(shapes) == [f"p{lvl}" for lvl in arch.neck.levels]
    for name, feat in out.items():
        assert feat.shape[:2] == (2, 32)
        assert shapes[name].stride == 2 ** int(name[1:])
        # every level is the input downsampled by its stride: rounded up by strided convs,
        # down by the fire module's SqueezeNet-style ceil-mode pool on odd sizes
        stride = shapes[name].stride
        for got, full in zip(feat.shape[-2:], size):
            assert math.floor(full / stride) <= got <= math.ceil(full / stride)


def test_depthwise_necks_are_smaller() -> None:
    for variant in ("fpn", "panet", "bifpn"):
        plain = count_params(FeatureNetwork(decode(f"{BACKBONE}+{variant}_c32_l2.5")).neck)
        dw = count_params(FeatureNetwork(decode(f"{BACKBONE}+{variant}_c32_l2.5_dw")).neck)
        assert dw < plain


def test_bifpn_repeats_add_layers() -> None:
    one = FeatureNetwork(decode(f"{BACKBONE}+bifpn_c32_l2.5_dw")).neck
    three = FeatureNetwork(decode(f"{BACKBONE}+bifpn_c32_l2.5_dw_r3")).neck
    assert len(three.layers) == 3 * len(one.layers)
    assert count_params(three) > count_params(one)


def test_panet_adds_bottom_up_path_to_fpn() -> None:
    fpn = count_params(FeatureNetwork(decode(f"{BACKBONE}+fpn_c32_l2.5")).neck)
    panet = count_params(FeatureNetwork(decode(f"{BACKBONE}+panet_c32_l2.5")).neck)
    assert panet > fpn


def test_bifpn_fusion_weights_are_normalised() -> None:
    from nas.model.necks.bifpn import WeightedFusion

    fuse = WeightedFusion(2, 4, depthwise=True).eval()
    fuse.weights.data = torch.tensor([1.0, 3.0])
    fuse.conv = torch.nn.Identity()
    a, b = torch.full((1, 4, 2, 2), 1.0), torch.full((1, 4, 2, 2), 5.0)
    expected = torch.nn.functional.silu(torch.full((1, 4, 2, 2), (1 * 1 + 3 * 5) / (4 + 1e-4)))
    torch.testing.assert_close(fuse([a, b]), expected)


def test_neck_needing_a_missing_backbone_level_fails_clearly() -> None:
    arch = decode("stem_k3_c64_s2_relu_pool_pad0+fire_sq16_c128_n1_s1_relu+fire_sq32_c256_n1_s2_relu+fire_sq48_c384_n1_s2_relu+fpn_c32_l2.5")
    with pytest.raises(SpecError, match=r"no feature c5.*reach c2 \(stride 4\), c3 \(stride 8\), c4 \(stride 16\)"):
        FeatureNetwork(arch)


def test_every_declared_variant_has_a_builder_and_only_those() -> None:
    """The space layer declares the variants specs may name; the model builds each of them."""
    assert sorted(NECKS) == sorted(NECK_VARIANTS) == sorted(neck_names())
    with pytest.raises(ValueError, match="'unet' is not a declared variant"):
        register_neck("unet")(lambda in_shapes, spec: None)
    assert "unet" not in NECKS


def test_neck_spec_validation() -> None:
    with pytest.raises(SpecError, match="unknown variant 'unet'"):
        NeckSpec("unet")
    with pytest.raises(SpecError, match="at least two levels"):
        NeckSpec("fpn", 64, 3, 3)
    with pytest.raises(SpecError, match="neck 'none' has one level"):
        NeckSpec("none", 64, 2, 5)
    with pytest.raises(SpecError, match="neck 'panet': repeats apply to bifpn only"):
        NeckSpec("panet", 64, 2, 5, repeats=2)
