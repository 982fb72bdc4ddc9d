"""Contract tests run for every registered block type (a new block is tested on registration)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nas.blocks import BLOCKS, block_names, build_block, get_block
from nas.errors import RegistryError

# Minimal valid options per block type; every registered block must appear here.
CONTRACT_PARAMS: dict[str, dict] = {
    "ir": {"kernels": (5,), "expansion": 4.0, "se": 0.25, "act": "hs"},
    "mix": {"kernels": (3, 5, 7), "expansion": 3.0, "se": 0.25, "act": "sw"},
    "dw": {"kernels": (3,), "se": 0.25, "act": "relu"},
    "fire": {"squeeze": 8, "depthwise": True, "act": "relu"},
    "conv": {"kernels": (3,), "act": "relu6"},
    "res": {"kernels": (3,), "expansion": 0.25, "act": "relu"},
}
NAMES = block_names()


def test_every_registered_block_has_contract_params() -> None:
    assert sorted(CONTRACT_PARAMS) == NAMES


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("in_ch", "out_ch", "stride"), [(16, 16, 1), (16, 32, 2), (24, 16, 1)])
def test_shapes_and_strides(name: str, in_ch: int, out_ch: int, stride: int) -> None:
    block = build_block(name, in_ch, out_ch, stride, **CONTRACT_PARAMS[name]).eval()
    x = torch.randn(2, in_ch, 32, 24)
    y = block(x)
    assert y.shape == (2, out_ch, 32 // stride, 24 // stride)


@pytest.mark.parametrize("name", NAMES)
def test_builder_signature_declared_options(name: str) -> None:
    """The registration lists exactly the options the contract params use (besides act)."""
    declared = get_block(name).option_names
    used = set(CONTRACT_PARAMS[name]) - {"act"}
    assert used <= declared


def _zero_last_bn(block: nn.Module) -> None:
    """Make the residual branch output zero: the last BatchNorm's scale and shift to 0."""
    bns = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
    bns[-1].weight.data.zero_()
    bns[-1].bias.data.zero_()


@pytest.mark.parametrize("name", ["ir", "mix", "dw", "fire"])
def test_residual_is_identity_plus_branch(name: str) -> None:
    """Stride 1 and equal widths: with the branch's last BN zeroed the block is the identity."""
    block = build_block(name, 16, 16, 1, **CONTRACT_PARAMS[name]).eval()
    assert block.has_residual
    x = torch.randn(1, 16, 8, 8)
    # Fire concatenates two branches; zero both their last BNs.
    if name == "fire":
        for branch in (block.expand1x1, block.expand3x3):
            _zero_last_bn(branch)
    else:
        _zero_last_bn(block)
    torch.testing.assert_close(block(x), x)


@pytest.mark.parametrize("name", ["ir", "mix", "dw", "fire"])
@pytest.mark.parametrize(("in_ch", "out_ch", "stride"), [(16, 24, 1), (16, 16, 2)])
def test_no_residual_when_shapes_differ(name: str, in_ch: int, out_ch: int, stride: int) -> None:
    assert not build_block(name, in_ch, out_ch, stride, **CONTRACT_PARAMS[name]).has_residual


def test_inverted_residual_layout_matches_mobilenet_v2() -> None:
    """16 -> 24, e6, k3: expand 16*96, depthwise 96*9, project 96*24, plus BN (2 per channel)."""
    block = build_block("ir", 16, 24, 2, kernels=(3,), expansion=6.0)
    params = sum(p.numel() for p in block.parameters())
    assert params == 16 * 96 + 2 * 96 + 96 * 9 + 2 * 96 + 96 * 24 + 2 * 24


def test_expansion_one_skips_expand_conv() -> None:
    block = build_block("ir", 16, 16, 1, kernels=(3,), expansion=1.0)
    assert isinstance(block.expand, nn.Identity)


def test_mixconv_splits_channels_over_kernels() -> None:
    block = build_block("mix", 16, 16, 1, kernels=(3, 5, 7), expansion=2.0)
    convs = block.depthwise[0].convs
    assert [c.kernel_size[0] for c in convs] == [3, 5, 7]
    assert [c.in_channels for c in convs] == [12, 10, 10]  # 32 = 10 + 10 + 10, remainder to the first


def test_fire_expand_branches_and_pool() -> None:
    block = build_block("fire", 64, 128, 2, squeeze=16, depthwise=False)
    assert isinstance(block.pool, nn.MaxPool2d)
    params = sum(p.numel() for p in block.parameters())
    # squeeze 64->16, expand1x1 16->64, expand3x3 16->64 (3x3), each with BN
    assert params == 64 * 16 + 32 + 16 * 64 + 128 + 16 * 64 * 9 + 128
    # SqueezeNet pools with ceil mode: 55 -> 27
    assert block(torch.randn(1, 64, 55, 55)).shape[-1] == 27


def test_unknown_block_lists_known_ones() -> None:
    with pytest.raises(RegistryError) as err:
        get_block("shufflenet")
    for name in BLOCKS:
        assert name in str(err.value)
