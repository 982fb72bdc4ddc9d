"""The spec string grammar: exact round trips and errors that name the bad token."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nas.errors import SpecError
from nas.space import ArchSpec, StageSpec, decode, encode
from nas.space.references import REFERENCES, reference

EXAMPLE = (
    "stem_k3_c32_s2_relu6+dw_k3_c16_n1_s1_relu6+ir_k5_e6_c40_n3_s2_se0.25_hs"
    "+mix_k3.5.7_e6_c80_n2_s2_se0.5_a2_p2_sw+fire_sq16_c128_n2_s2_dw_relu"
    "+bifpn_c64_l3.7_dw_r3+head_n4_c128_k3_r14_o56_b256+in512x384"
)


def test_example_round_trips_exactly() -> None:
    arch = decode(EXAMPLE)
    assert encode(arch) == EXAMPLE
    assert ArchSpec.from_json(arch.to_json()) == arch
    assert arch.stages[1] == StageSpec("ir", 40, 3, 2, (5,), 6.0, 0.25, "hs")
    assert arch.stages[2].kernels == (3, 5, 7) and arch.stages[2].expand_groups == 2
    assert arch.stages[3].squeeze == 16 and arch.stages[3].depthwise
    assert (arch.neck.variant, arch.neck.min_level, arch.neck.max_level, arch.neck.repeats) == ("bifpn", 3, 7, 3)
    assert arch.input_size == (512, 384)


def test_options_in_any_order_give_the_canonical_string() -> None:
    shuffled = "stem_relu_c32_k3_s2+ir_hs_c40_k5_s2_n3_e6_se0.25+fpn_l2.5_c64"
    arch = decode(shuffled)
    assert encode(arch) == "stem_k3_c32_s2_relu+ir_k5_e6_c40_n3_s2_se0.25_hs+fpn_c64_l2.5+head_n4_c128_k3_r14_o56_b256+in512x384"


def test_id_is_stable_and_short() -> None:
    arch = decode(EXAMPLE)
    assert arch.id == decode(EXAMPLE).id
    assert len(arch.id) == 10 and int(arch.id, 16) >= 0
    other = decode(EXAMPLE.replace("c40", "c48"))
    assert other.id != arch.id


@pytest.mark.parametrize("name", list(REFERENCES))
def test_references_round_trip(name: str) -> None:
    arch = reference(name)
    assert decode(encode(arch)) == arch
    assert ArchSpec.from_dict(json.loads(arch.to_json())) == arch


@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
@settings(max_examples=150, deadline=None)
def test_round_trip_over_sampled_specs(default_space, seed: int) -> None:
    arch = default_space.sample(seed)
    text = arch.to_string()
    assert decode(text) == arch
    assert decode(text).to_string() == text
    assert ArchSpec.from_json(arch.to_json()) == arch


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty architecture string"),
        ("ir_k3_c16", "first token 'ir_k3_c16' must be the stem"),
        ("stem_c32+ir_k3_x5_c16", "unknown option 'x5'"),
        ("stem_c32+ir_k3_e6", "missing output channels"),
        ("stem_c32+shuffle_c16", "unknown token 'shuffle_c16'"),
        ("stem_c32+fire_k3_c16_sq4", "block 'fire' does not take option 'k3'"),
        ("stem_c32+fire_c16", "fire needs a squeeze width"),
        ("stem_c32+mix_k3_c16_e3", "takes 2..8 kernel sizes"),
        ("stem_c32+ir_kx_c16", "cannot read option 'kx'"),
        ("stem_c32+ir_k3..5_c16", "needs kernel sizes like k3 or k3.5.7"),
        ("stem_c32+ir_c16_s3", "stride 3 not 1 or 2"),
        ("stem_c32+ir_c16_eabc", "cannot read option 'eabc'"),
        ("stem_c32+ir_c16_n0", "depth 0 out of range"),
        ("stem_c32+ir_c16+fpn_c64_l2", "levels must read l<min>.<max>"),
        ("stem_c32+ir_c16+fpn_c64_l2.5_r2", "repeats apply to bifpn only"),
        ("stem_c32+ir_c16+none_c64_l2.5", "neck 'none' has one level"),
        ("stem_c32+ir_c16+fpn_c64_l2.5+fpn_c64_l2.5", "the neck is given twice"),
        ("stem_c32+ir_c16+in512", "unknown token 'in512'"),
        ("stem_c32+ir_c16+head_o50", "must be a multiple of pool"),
        ("stem_c32+ir_c16_relu_hs", "repeats a setting"),
        ("stem_c32++ir_c16", "empty token"),
        ("stem_c32+fpn_c64_l2.5+ir_c16", "comes after the neck"),
        ("stem_c32+fpn_c64_l2.5", "has no stage tokens"),
        ("stem_c32+ir_c16+cls_hs", "activation applies only with a hidden layer"),
    ],
)
def test_malformed_strings_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(SpecError) as err:
        decode(text)
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("[1, 2]", "must be an object"),
        ('{"stem": {"channels": 8}}', "'stages' must be a list"),
        ('{"stem": {"channels": 8, "color": 1}, "stages": []}', "stem has unknown keys ['color']"),
        ('{"stem": {"channels": 8}, "stages": [{"block": "ir", "channels": 8, "kernels": 3}]}', "kernels must be a list"),
        ('{"stem": {"channels": 8}, "stages": [{"block": "ir", "channels": 8}], "input_size": [1]}', "input_size must be [height, width]"),
        ("{nope", "not valid JSON"),
    ],
)
def test_malformed_json_names_the_field(data: str, fragment: str) -> None:
    with pytest.raises(SpecError) as err:
        ArchSpec.from_json(data)
    assert fragment in str(err.value)


def test_specs_are_frozen() -> None:
    arch = decode(EXAMPLE)
    with pytest.raises(AttributeError):
        arch.stem.channels = 8  # type: ignore[misc]


def test_options_a_block_does_not_take_are_rejected_at_construction() -> None:
    with pytest.raises(SpecError, match="does not take option 'expansion'"):
        StageSpec("fire", 32, squeeze=8, expansion=6.0)


def test_a_spec_of_too_many_stages_is_refused_before_anything_is_built() -> None:
    """A few thousand stages took minutes and gigabytes to build; the limit is far above
    any reference (12 stages at most) and the default space (8)."""
    from nas.space.spec import MAX_STAGES

    assert max(len(reference(name).stages) for name in REFERENCES) <= 12 < MAX_STAGES
    base = reference("densemobile")
    stage = StageSpec("ir", 32, kernels=(3,), expansion=6.0)
    ArchSpec(base.stem, (stage,) * MAX_STAGES, base.neck, base.head)  # at the limit: accepted
    with pytest.raises(SpecError, match=rf"an architecture has 1\.\.{MAX_STAGES} stages, got {MAX_STAGES + 1}"):
        ArchSpec(base.stem, (stage,) * (MAX_STAGES + 1), base.neck, base.head)
    data = base.to_dict()
    data["stages"] = data["stages"][:1] * 3504
    with pytest.raises(SpecError, match="got 3504"):
        ArchSpec.from_json(json.dumps(data))


def test_a_string_longer_than_any_spec_is_refused_with_an_excerpt() -> None:
    from nas.space.codec import MAX_SPEC_CHARS

    tokens = reference("densemobile").to_string().split("+")
    text = "+".join([tokens[0], *tokens[1:-3] * 2000, *tokens[-3:]])  # ~84,000 characters
    assert len(text) > MAX_SPEC_CHARS
    with pytest.raises(SpecError, match=r"an architecture string of [\d,]+ characters \('stem_k3_c32") as caught:
        decode(text)
    assert len(str(caught.value)) < 200  # an excerpt, not the input echoed back
