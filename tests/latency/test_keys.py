"""Op keys: hand-checked formats, round trips, and agreement with the built model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from nas.latency.keys import Op, arch_ops, op_keys, space_keys
from nas.latency.opkinds import block_key, build_op, parse_block_key, unit_layers
from nas.latency.providers import OP_PROVIDERS, PARTS, op_providers, register_op_provider
from nas.latency.units import find_units
from nas.model.features import FeatureNetwork
from nas.space.spec import ArchSpec

TINY_ARCH = (
    "stem_k3_c8_s2_relu+dw_k3_c8_n1_s1_relu+fire_sq8_c16_n1_s2_dw_relu+dw_k3_c16_n1_s2_relu"
    "+ir_k3_e2_c24_n1_s2_relu+ir_k3_e2_c32_n1_s2_relu+fpn_c16_l3.5_dw+head_n4_c128_k3_r14_o56_b256+in64x64"
)


def test_hand_checked_keys() -> None:
    # 64x64 RGB -> stem /2 -> 32x32x8; s1 keeps 32x32; fire /2 (max-pool) -> 16x16x16; then /2 per stage
    assert op_keys(ArchSpec.from_string(TINY_ARCH)) == [
        "stem-in:64x64x3-out:32x32x8-k3-s2-relu-pool0-pad1",
        "dw-in:32x32x8-out:32x32x8-s1-relu-k3-se0",
        "fire-in:32x32x8-out:16x16x16-s2-relu-dw1-sq8",
        "dw-in:16x16x16-out:8x8x16-s2-relu-k3-se0",
        "ir-in:8x8x16-out:4x4x24-s2-relu-eg1-e2-k3-pg1-se0",
        "ir-in:4x4x24-out:2x2x32-s2-relu-eg1-e2-k3-pg1-se0",
        # FPN P3..P5 reads c3 (8x8x16), c4 (4x4x24), c5 (2x2x32): 1x1 laterals, then dw-separable 3x3 outputs
        "unit-in:8x8x16-out:8x8x16-c16k1s1p0g1.bn",
        "unit-in:4x4x24-out:4x4x16-c16k1s1p0g1.bn",
        "unit-in:2x2x32-out:2x2x16-c16k1s1p0g1.bn",
        "unit-in:8x8x16-out:8x8x16-c16k3s1p1g16.c16k1s1p0g1.bn",
        "unit-in:4x4x16-out:4x4x16-c16k3s1p1g16.c16k1s1p0g1.bn",
        "unit-in:2x2x16-out:2x2x16-c16k3s1p1g16.c16k1s1p0g1.bn",
        "glue-fpn-c16-l3.5-r1-in:8x8.4x4.2x2",
        # heads: the RPN on each level (3 anchors, depthwise like the neck), box and DensePose heads at 10 RoIs
        "rpn-in:8x8x16-a3-dw1",
        "rpn-in:4x4x16-a3-dw1",
        "rpn-in:2x2x16-a3-dw1",
        "boxhead-r10-in:7x7x16-h256",
        "dphead-r10-in:14x14x16-n4-c128-k3-o56",
    ]
    names = [op.name for op in arch_ops(ArchSpec.from_string(TINY_ARCH))]
    assert names[:3] == ["stem", "s0.b0", "s1.b0"] and names[6] == "neck.lateral.0" and names[12] == "neck.glue"
    assert names[13:] == ["rpn.p3", "rpn.p4", "rpn.p5", "box_head", "densepose_head"]
    assert op_keys(ArchSpec.from_string(TINY_ARCH), rois=3)[-1] == "dphead-r3-in:14x14x16-n4-c128-k3-o56"


def test_block_key_round_trip() -> None:
    key = "mix-in:64x48x24-out:32x24x40-s2-hs-eg1-e6-k3.5.7-pg1-se0.25"
    block, in_shape, out_shape, stride, params = parse_block_key(key)
    assert (block, in_shape, out_shape, stride) == ("mix", (64, 48, 24), (32, 24, 40), 2)
    assert params == {"act": "hs", "expand_groups": 1, "expansion": 6.0, "kernels": (3, 5, 7), "project_groups": 1, "se": 0.25}
    assert block_key(block, in_shape, out_shape, stride, tuple(params.items())) == key


def test_bad_keys_fail_clearly() -> None:
    from nas.errors import RegistryError, SpecError

    with pytest.raises(RegistryError, match="unknown kind 'zz'"):
        build_op("zz-in:1x1x1-out:1x1x1")
    with pytest.raises(SpecError, match="unknown token 'q7'"):
        parse_block_key("ir-in:8x8x8-out:8x8x8-s1-q7")


def _meta_shape(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> list[tuple[int, ...]]:
    out = module(*inputs)
    outs = out if isinstance(out, (tuple, list)) else [out]
    return [tuple(o.shape) for o in outs]


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _check_against_model(arch: ArchSpec) -> None:
    """Modules rebuilt from the keys equal the feature network's modules."""
    net = FeatureNetwork(arch).eval()
    ops = arch_ops(arch)
    by_name = {op.name: op for op in ops}
    # stem and every block instance: same structure (repr), parameters and output shape
    stem = build_op(by_name["stem"].key).module
    assert repr(stem) == repr(net.backbone.stem) and _params(stem) == _params(net.backbone.stem)
    blocks = [op for op in ops if op.part == "backbone"]
    built_blocks = [(f"s{i}.b{j}", b) for i, stage in enumerate(net.backbone.stages) for j, b in enumerate(stage)]
    assert [op.name for op in blocks] == [name for name, _ in built_blocks]
    x = torch.randn(1, 3, *arch.input_size)
    with torch.no_grad():
        x = net.backbone.stem(x)
        for op, (_, module) in zip(blocks, built_blocks):
            rebuilt = build_op(op.key)
            assert repr(rebuilt.module) == repr(module), op.key
            assert _params(rebuilt.module) == _params(module)
            assert rebuilt.inputs[0].shape == x.shape, op.key
            x = module(x)
            assert tuple(rebuilt.module(*rebuilt.inputs).shape) == tuple(x.shape), op.key
    # neck: one op per conv unit (same leaves, parameters, shapes) plus the glue
    units = dict(find_units(net.neck))
    neck_ops = [op for op in ops if op.part == "neck" and op.name != "neck.glue"]
    assert sorted(op.name for op in neck_ops) == sorted(f"neck.{p}" for p in units)
    for op in neck_ops:
        unit, rebuilt = units[op.name[len("neck.") :]], build_op(op.key)
        assert unit_layers(rebuilt.module) == unit_layers(unit) and _params(rebuilt.module) == _params(unit)
    glue = build_op(by_name["neck.glue"].key)
    with torch.no_grad():
        levels = net(torch.randn(1, 3, *arch.input_size))
        glue_out = glue.module(*glue.inputs)
    assert [tuple(t.shape) for t in glue_out] == [tuple(levels[k].shape) for k in sorted(levels)]
    _check_heads_against_model(arch, ops)


def _check_heads_against_model(arch: ArchSpec, ops: list[Op]) -> None:
    """Head ops rebuilt from keys equal DensePose R-CNN's heads; the dense deployment
    (validation's whole network) is the feature network plus exactly those heads."""
    from nas.latency.heads import build_dense, dense_program
    from nas.model.rcnn import build_densepose_rcnn

    model = build_densepose_rcnn(arch).eval()
    heads = {op.name: build_op(op.key) for op in ops if op.part == "heads"}
    rpn = [name for name in heads if name.startswith("rpn.")]
    assert rpn == [f"rpn.{level}" for level in sorted(model.features.output_shape())]
    for name in rpn:
        assert repr(heads[name].module.head) == repr(model.rpn.head) and _params(heads[name].module) == _params(model.rpn.head)
    assert repr(heads["box_head"].module.head) == repr(model.box_head)
    assert repr(heads["densepose_head"].module.head) == repr(model.dp_head)
    assert heads["densepose_head"].inputs[0].shape == (10, arch.neck.channels, arch.head.pool, arch.head.pool)
    dense = build_dense(dense_program(arch.to_string(), 10))
    expected = _params(model.features) + _params(model.rpn) + _params(model.box_head) + _params(model.dp_head)
    assert _params(dense.module) == expected
    # every op's parameters add up to the model's, the RPN head counted once (it is shared by the levels)
    per_op = sum(_params(build_op(op.key).module) for op in ops)
    assert per_op - (len(rpn) - 1) * _params(model.rpn.head) == expected


def test_keys_match_model_tiny(tiny_space) -> None:
    _check_against_model(ArchSpec.from_string(TINY_ARCH))
    for seed in range(4):
        _check_against_model(tiny_space.sample(seed))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_keys_match_model_default_space(default_space, seed: int) -> None:
    arch = default_space.sample(seed)
    # the same decisions at a small input keep the test fast; geometry logic is identical
    small = ArchSpec(arch.stem, arch.stages, arch.neck, arch.head, (128, 96))
    _check_against_model(small)


def test_space_keys_cover_sampled_archs(tiny_space, repo) -> None:
    import yaml

    from nas.space.search_space import SearchSpace

    keys = space_keys(tiny_space)
    assert len([k for k in keys if not k.startswith(("rpn-", "boxhead-", "dphead-"))]) == 19 and keys == sorted(set(keys))
    assert {k for s in range(30) for k in op_keys(tiny_space.sample(s))} <= set(keys)
    # the default space with one neck width (its full enumeration takes ~15 s)
    data = yaml.safe_load((repo / "search_spaces" / "densepose_mobile.yaml").read_text())
    data["neck"]["channels"] = [64]
    space = SearchSpace.from_dict(data)
    full = set(space_keys(space))
    for seed in range(100, 160):
        assert set(op_keys(space.sample(seed))) <= full


RECORDED_BLOCK_KEYS = json.loads((Path(__file__).parent / "recorded_block_keys.json").read_text())["reference_block_keys"]


@pytest.mark.parametrize("name", sorted(RECORDED_BLOCK_KEYS))
def test_reference_block_keys_unchanged(name: str) -> None:
    """Block op keys stay byte-identical, the options no shipped table uses included."""
    from nas.blocks import BLOCKS
    from nas.space.references import reference

    keys = {k for k in op_keys(reference(name)) if k.split("-", 1)[0] in BLOCKS}
    assert sorted(keys) == RECORDED_BLOCK_KEYS[name]


def test_every_part_has_its_provider_in_execution_order() -> None:
    assert [p.part for p in op_providers()] == list(PARTS) == ["stem", "backbone", "neck", "heads"]
    with pytest.raises(ValueError, match="parts are stem, backbone, neck, heads"):
        register_op_provider("tail", lambda arch, ctx: [], lambda space, ctx: set())
    assert "tail" not in OP_PROVIDERS


def test_head_provider_hook() -> None:
    from nas.latency import keys as keys_module

    seen = {}

    def heads(arch: ArchSpec, ctx: keys_module.KeyContext) -> list[Op]:
        seen["levels"], seen["rois"] = dict(ctx.levels), ctx.rois
        return [Op("heads", "heads.box", f"fakehead-rois{ctx.rois}")]

    # the provider the DensePose R-CNN code registers is replaced by a fake one in its place
    fake = keys_module.OpProvider("heads", heads, lambda space, ctx: {f"fakehead-rois{ctx.rois}"})
    arch = ArchSpec.from_string(TINY_ARCH)
    with OP_PROVIDERS.replaced("heads", fake):
        assert op_keys(arch, rois=7)[-1] == "fakehead-rois7"
    assert seen == {"levels": {"p3": (8, 8, 16), "p4": (4, 4, 16), "p5": (2, 2, 16)}, "rois": 7}
