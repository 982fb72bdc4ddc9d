"""Elastic blocks and stages: every block call a stage of the default space can make (each
block type at every kernel, expansion, SE ratio, activation, squeeze and width it offers)
runs as the stand-alone block loaded with the call's slice; stages at every depth."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nas.blocks import build_block
from nas.errors import SupernetError
from nas.model.backbone import BlockCall
from nas.space.search_space import searchable_blocks
from nas.supernet.backbone import ElasticStage
from nas.supernet.blocks import ELASTIC_BLOCKS, build_elastic_block
from nas.supernet.envelope import stage_envelopes
from tests.supernet.conftest import randomise

STAGE = 3  # offers ir, mix, fire and dw at widths 64..96, depth 2..4, after widths 32..48


def _check(elastic: nn.Module, call: BlockCall, x: torch.Tensor) -> None:
    block = call.build().eval()
    block.load_state_dict(elastic.slice_state(call))
    with torch.no_grad():
        torch.testing.assert_close(elastic(x[:, : call.in_ch], call), block(x[:, : call.in_ch]), rtol=1e-5, atol=1e-5)


def test_every_searchable_block_type_has_an_elastic_version() -> None:
    assert set(searchable_blocks()) <= set(ELASTIC_BLOCKS.names())


@pytest.mark.parametrize("block", ["ir", "mix", "fire", "dw"])
@pytest.mark.parametrize("position", ["first", "later"])
def test_every_call_of_a_stage_equals_its_stand_alone_block(default_space, block: str, position: str) -> None:
    envelope = stage_envelopes(default_space)[STAGE]
    calls = getattr(envelope, position)[block]
    torch.manual_seed(0)
    elastic = randomise(build_elastic_block(block, calls)).eval()
    x = torch.randn(2, max(c.in_ch for c in calls), 8, 8)
    for call in calls:
        _check(elastic, call, x)
    assert len(set(calls)) == len(calls) > 1


def test_expansion_one_skips_the_expand_conv_as_the_block_does() -> None:
    params = (("act", "relu"), ("expand_groups", 1), ("expansion", 1.0), ("kernels", (3,)), ("project_groups", 1), ("se", 0.0))
    wide = tuple(dict(params, expansion=4.0).items())
    calls = (BlockCall("s0.b0", "ir", 16, 16, 1, params), BlockCall("s0.b0", "ir", 16, 16, 1, tuple(sorted(wide))))
    elastic = randomise(build_elastic_block("ir", calls)).eval()
    assert "expand.0.weight" not in elastic.slice_state(calls[0]) and "expand.0.weight" in elastic.slice_state(calls[1])
    x = torch.randn(1, 16, 6, 6)
    for call in calls:
        _check(elastic, call, x)


def test_grouped_pointwise_convs_are_refused() -> None:
    params = (("act", "relu"), ("expand_groups", 2), ("expansion", 2.0), ("kernels", (3,)), ("project_groups", 1), ("se", 0.0))
    with pytest.raises(SupernetError, match="grouped 1x1 convs"):
        build_elastic_block("ir", (BlockCall("s0.b0", "ir", 16, 16, 1, params),))


def test_a_block_type_without_an_elastic_version_is_refused() -> None:
    call = BlockCall("s0.b0", "res", 16, 16, 1, (("act", "relu"), ("expansion", 0.25), ("kernels", (3,))))
    with pytest.raises(SupernetError, match="block type 'res' has no elastic version.*remove 'res'"):
        build_elastic_block("res", (call,))


@pytest.mark.parametrize("block", ["ir", "mix", "fire", "dw"])
def test_a_stage_runs_its_first_depth_blocks(default_space, block: str) -> None:
    envelope = stage_envelopes(default_space)[STAGE]
    torch.manual_seed(0)
    stage = randomise(ElasticStage(envelope)).eval()
    first, later = envelope.first[block][-1], envelope.later[block][-1]  # the widest calls
    x = torch.randn(1, first.in_ch, 12, 12)
    outputs = []
    for depth in range(1, envelope.depth + 1):
        calls = [first] + [BlockCall(f"s{STAGE}.b{i}", block, later.in_ch, later.out_ch, 1, later.params) for i in range(1, depth)]
        model = nn.Sequential(*(build_block(c.block, c.in_ch, c.out_ch, c.stride, **dict(c.params)) for c in calls)).eval()
        model.load_state_dict(stage.slice_state(calls))
        with torch.no_grad():
            out = stage(x, calls)
            torch.testing.assert_close(out, model(x), rtol=1e-5, atol=1e-5)
        outputs.append(out)
    assert not torch.allclose(outputs[0], outputs[-1])  # the extra blocks do compute something
