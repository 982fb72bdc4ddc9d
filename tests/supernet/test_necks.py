"""Elastic necks: every neck the default space offers (each variant at every channel count,
level range, depthwise choice and repeat count), fed the narrowest and the widest backbone
features, computes what the stand-alone neck loaded with its slice computes; and pyramids
above P5 from a space that offers them."""

from __future__ import annotations

import pytest
import torch

from nas.model.necks import build_neck, neck_names, required_features
from nas.model.shapes import ShapeSpec
from nas.space.search_space import SearchSpace
from nas.space.spec import FEATURE_STRIDES
from nas.supernet.envelope import feature_widths, neck_specs, some_arch
from nas.supernet.necks import ELASTIC_NECKS, build_elastic_neck
from tests.supernet.conftest import randomise

SIZE = 64  # input pixels: c2 is 16 x 16, c5 2 x 2


def _narrowest(space: SearchSpace) -> dict[str, int]:
    stages = some_arch(space).feature_stages()
    return {name: min(space.stages[index].widths) for name, index in stages.items()}


def _check_variant(space: SearchSpace, variant: str) -> int:
    specs = neck_specs(space, variant)
    torch.manual_seed(0)
    elastic = randomise(build_elastic_neck(variant, specs, feature_widths(space))).eval()
    for widths in (_narrowest(space), feature_widths(space)):
        feats = {f: torch.randn(1, c, SIZE // FEATURE_STRIDES[f], SIZE // FEATURE_STRIDES[f]) for f, c in widths.items()}
        for spec in specs:
            shapes = {f: ShapeSpec(widths[f], FEATURE_STRIDES[f]) for f in required_features(spec)}
            neck = build_neck(shapes, spec).eval()
            neck.load_state_dict(elastic.slice_state(spec, widths))
            with torch.no_grad():
                got, want = elastic(feats, spec), neck(feats)
            assert list(got) == list(want) == [f"p{lvl}" for lvl in spec.levels]
            for level in want:
                torch.testing.assert_close(got[level], want[level], rtol=1e-5, atol=1e-5)
    return len(specs)


def test_every_neck_variant_has_an_elastic_version() -> None:
    assert set(neck_names()) <= set(ELASTIC_NECKS.names())


@pytest.mark.parametrize("variant", ["none", "fpn", "panet", "bifpn"])
def test_every_neck_of_the_default_space_equals_its_stand_alone_neck(default_space, variant: str) -> None:
    count = _check_variant(default_space, variant)
    assert count == {"none": 4, "fpn": 16, "panet": 16, "bifpn": 32}[variant]


@pytest.mark.parametrize("variant", ["fpn", "panet", "bifpn"])
def test_pyramids_above_p5_share_weights_by_level(default_space, variant: str) -> None:
    source = {**default_space.source, "neck": {**default_space.source["neck"], "levels": [[2, 5], [3, 6], [4, 7]], "channels": [16, 24]}}
    assert _check_variant(SearchSpace.from_dict(source), variant) > 1
