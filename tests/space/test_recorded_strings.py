"""Canonical strings stay byte-identical: the references and sampled architectures encode
to the strings recorded before block options were declared once (recorded_specs.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nas.space import decode
from nas.space.references import REFERENCES, reference

RECORDED = json.loads((Path(__file__).parent / "recorded_specs.json").read_text())


def test_every_reference_is_recorded() -> None:
    assert sorted(RECORDED["references"]) == sorted(REFERENCES)


@pytest.mark.parametrize("name", sorted(RECORDED["references"]))
def test_reference_strings_unchanged(name: str) -> None:
    text = RECORDED["references"][name]
    assert reference(name).to_string() == text
    assert decode(text).to_string() == text


def test_sampled_strings_unchanged(default_space) -> None:
    """Same seeds, same draws (option order of the YAML parsing) and same strings."""
    for seed, text in RECORDED["default_space_samples"].items():
        assert default_space.sample(int(seed)).to_string() == text, seed
        assert decode(text) == default_space.sample(int(seed))
