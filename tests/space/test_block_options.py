"""Block option declarations (nas.blocks.options) agree with the stage spec, and every
spec, codec, op-key and search-space behaviour derives from them for every block."""

from __future__ import annotations

from dataclasses import fields

import pytest

from nas.blocks import BLOCKS, block_names, block_options, get_block
from nas.blocks.options import SE, BlockOption
from nas.errors import SpecError
from nas.latency.opkinds import block_key, parse_block_key
from nas.layers.activations import ACTIVATIONS
from nas.space.codec import decode_stage, encode_stage
from nas.space.parts import STAGE_FIELDS
from nas.space.search_space import searchable_blocks, searchable_options
from nas.space.spec import StageSpec

STAGE_DEFAULTS = {f.name: f.default for f in fields(StageSpec) if f.name not in STAGE_FIELDS}


def test_declared_options_are_the_stage_option_fields() -> None:
    """Each declared option is a StageSpec field with the declared default, and each
    StageSpec option field is declared by some block."""
    declared = {o.name: o.default for o in block_options()}
    assert declared == STAGE_DEFAULTS


def test_letters_are_unambiguous() -> None:
    options = block_options()
    spec_letters = [o.letter for o in options]
    key_letters = [o.key_letter for o in options]
    assert len(set(spec_letters)) == len(spec_letters) and len(set(key_letters)) == len(key_letters)
    # c/n/s are the stage fields' letters; s<n> is the stride in keys; activations are tokens
    assert not (set(spec_letters) | set(key_letters)) & {"c", "n", "s", *ACTIVATIONS}


def _sample_value(option: BlockOption) -> object:
    """A valid value other than the default (the canonical string writes it)."""
    low, _ = option.count
    return {"kernels": (3, 5, 7, 9)[:low] if low > 1 else (5,), "float": 0.5, "int": 2, "bool": True}[option.kind]


def _valid_options(name: str) -> dict[str, object]:
    """Non-default values of every option ``name`` declares."""
    values = {o.name: _sample_value(o) for o in get_block(name).options}
    return {**values, "squeeze": 8} if "squeeze" in values else values  # fire: a width


@pytest.mark.parametrize("name", block_names())
def test_every_option_of_every_block_round_trips(name: str) -> None:
    """A stage with each option at a non-default value encodes, decodes and keys back."""
    values = _valid_options(name)
    stage = StageSpec(name, 16, **values)
    token = encode_stage(stage)
    assert decode_stage(token) == stage
    for option in get_block(name).options:
        assert option.spec_text(values[option.name]) in token.split("_")
    params = tuple(sorted(stage.block_params().items()))
    key = block_key(name, (8, 8, 16), (8, 8, 16), 1, params)
    assert parse_block_key(key)[4] == dict(params)
    assert stage.block_params() == {"act": "relu", **values}


@pytest.mark.parametrize("name", block_names())
def test_options_a_block_does_not_declare_are_refused(name: str) -> None:
    valid = _valid_options(name)
    token = encode_stage(StageSpec(name, 16, **valid))
    for option in block_options():
        if option.name in valid:
            continue
        with pytest.raises(SpecError, match=f"does not take option '{option.name}'"):
            StageSpec(name, 16, **valid, **{option.name: _sample_value(option)})
        with pytest.raises(SpecError, match=f"block '{name}' does not take option '{option.spec_text(_sample_value(option))}'"):
            decode_stage(f"{token}_{option.spec_text(_sample_value(option))}")


def test_searchable_blocks_and_their_yaml_names() -> None:
    assert searchable_blocks() == [n for n in block_names() if not BLOCKS.get(n).reference_only]
    assert list(searchable_options("ir")) == ["kernel", "expansion", "se"]
    assert list(searchable_options("mix")) == ["kernels", "expansion", "se"]
    assert list(searchable_options("dw")) == ["kernel", "se"]
    assert list(searchable_options("fire")) == ["squeeze_ratio", "depthwise"]


def test_a_block_disagreeing_with_a_shared_option_is_refused() -> None:
    from nas.blocks import register_block

    with pytest.raises(ValueError, match="option 'se' disagrees"):
        register_block("se_other_default", options=(SE.with_(default=0.25),))(lambda i, o, s, **p: None)
    with pytest.raises(ValueError, match="reuses a letter of option 'se'"):
        register_block("se_letter_twice", options=(SE.with_(name="se2"),))(lambda i, o, s, **p: None)
    assert "se_other_default" not in BLOCKS and "se_letter_twice" not in BLOCKS
