"""Search space YAML: validation with key paths, sampling, Optuna suggestion, size."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import optuna
import pytest
import torch
import yaml

from nas.errors import SearchSpaceError
from nas.model import FeatureNetwork
from nas.space.search_space import SearchSpace

from tests.conftest import DEFAULT_SPACE

TINY = {
    "name": "tiny",
    "input": {"deploy": [128, 96], "proxy": [64, 64]},
    "stem": {"channels": [8, 16], "act": "relu"},
    "blocks": {
        "ir": {"kernel": [3, 5], "expansion": [3, 6], "se": 0},
        "fire": {"squeeze_ratio": 0.25, "depthwise": [False, True]},
    },
    "stages": [
        {"stride": 2, "width": [16], "depth": [1, 2], "block": ["ir", "fire"]},
        {"stride": 2, "width": 24, "depth": 1, "block": "ir"},
        {"stride": 2, "width": 32, "depth": 1, "block": "ir"},
        {"stride": 2, "width": 48, "depth": 1, "block": ["ir", "fire"]},
    ],
    "neck": {"variant": ["none", "fpn", "bifpn"], "channels": [16, 32], "levels": [[2, 5]], "depthwise": [False, True], "repeats": [1, 2]},
}


def test_tiny_space_size_by_hand() -> None:
    space = SearchSpace.from_dict(TINY)
    stem = 2
    s0 = (2 * 2 + 2) * 1 * 2  # ir: 2 kernels x 2 expansions; fire: 2 depthwise choices; x 2 depths
    s1 = s2 = 4
    s3 = 4 + 2
    neck = 2 + 2 * 1 * 2 + 2 * 1 * 2 * 2  # none: channels; fpn: channels x levels x dw; bifpn: x repeats
    assert space.size() == stem * s0 * s1 * s2 * s3 * neck


def test_every_decision_vector_of_tiny_space_is_reachable() -> None:
    """Exhaustive-ish sampling reaches as many distinct specs as the space's size."""
    data = copy.deepcopy(TINY)
    data["blocks"]["ir"]["expansion"] = 3
    data["stages"] = [dict(TINY["stages"][0], depth=1)] + [dict(s, block="ir") for s in TINY["stages"][1:]]
    data["neck"] = {"variant": "fpn", "channels": 16}
    space = SearchSpace.from_dict(data)
    assert space.size() == 2 * (2 + 2) * 2 * 2 * 2  # stem x s0 (ir kernels + fire dw) x s1..s3 kernels
    rng = np.random.default_rng(0)
    seen = {space.sample(rng).to_string() for _ in range(600)}
    assert len(seen) == space.size()


def test_default_space_loads_and_reports_size(default_space) -> None:
    assert default_space.name == "densepose_mobile"
    assert default_space.size() > 1e15
    assert default_space.deploy_input == (512, 384)
    assert default_space.proxy_input == (256, 192)
    assert len(default_space.hash) == 16


def test_sampling_is_deterministic(default_space) -> None:
    a = [default_space.sample(np.random.default_rng(7)).to_string() for _ in range(2)]
    assert a[0] == a[1]
    assert default_space.sample(1) != default_space.sample(2)


def test_suggest_uses_stable_parameter_names(default_space) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    names: set[str] = set()
    for _ in range(20):
        trial = study.ask()
        arch = default_space.suggest(trial)
        study.tell(trial, 0.0)
        names |= set(trial.params)
        assert arch.input_size == default_space.deploy_input
    assert names <= set(default_space.parameter_names())
    assert {"stem.channels", "s0.block", "neck.variant"} <= names


def test_suggest_replays_a_fixed_trial(default_space) -> None:
    """A FixedTrial with the params of a suggestion rebuilds the same architecture."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    trial = study.ask()
    arch = default_space.suggest(trial)
    assert default_space.suggest(optuna.trial.FixedTrial(trial.params)) == arch


def test_two_hundred_samples_build_and_run(default_space) -> None:
    rng = np.random.default_rng(2026)
    x = torch.randn(1, 3, 96, 64)
    for _ in range(200):
        arch = default_space.sample(rng)
        model = FeatureNetwork(arch).eval()
        with torch.no_grad():
            out = model(x)
        assert set(out) == set(model.output_shape())
        for name, feat in out.items():
            shape = model.output_shape()[name]
            assert feat.shape[1] == shape.channels
            assert feat.shape[-2:] == (math.ceil(96 / shape.stride), math.ceil(64 / shape.stride))


def _write(tmp_path: Path, data) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def _mutate(**changes):
    data = copy.deepcopy(TINY)
    for dotted, value in changes.items():
        node = data
        keys = dotted.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is ...:
            del node[keys[-1]]
        else:
            node[keys[-1] if not isinstance(node, list) else int(keys[-1])] = value
    return data


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (_mutate(stem__channels=None) if False else _mutate(**{"stem.channels": "wide"}), "stem.channels: expected an integer, got 'wide'"),
        (_mutate(**{"stem.act": ["relu", "gelu"]}), "stem.act[1]: 'gelu' is not one of"),
        (_mutate(**{"stages.1.width": [24, 24]}), "stages[1].width: repeated choices"),
        (_mutate(**{"stages.0.stride": 3}), "stages[0].stride: 3 is not 1 or 2"),
        (_mutate(**{"stages.2.block": ["mix"]}), "stages[2].block[0]: 'mix' is not one of"),
        (_mutate(**{"stages.3.width": 47}), "stages[3].width: fire stages need even widths"),
        (_mutate(**{"stages.3.stride": 1}), "never reaches stride [32]"),
        (_mutate(**{"blocks.ir.kernel": [3, 4]}), "blocks.ir.kernel: kernel sizes must be odd"),
        (_mutate(**{"blocks.ir.se": 2}), "blocks.ir.se: 2.0 out of range"),
        (_mutate(**{"blocks.ir.colour": 1}), "blocks.ir: unknown keys ['colour']"),
        (_mutate(**{"neck.levels": [[3, 3]]}), "neck.levels[0]: [3, 3] needs min < max"),
        (_mutate(**{"neck.variant": ["fpn", "unet"]}), "neck.variant[1]: 'unet' is not one of"),
        (_mutate(**{"input.deploy": [500, 384]}), "input.deploy: 500x384: height and width must be multiples of 32"),
        (_mutate(**{"name": ...}), "<root>: missing keys ['name']"),
        (_mutate(extra=1), "<root>: unknown keys ['extra']"),
        ({**TINY, "head": {"pool": 14, "out": 50}}, "head: head: output size 50 must be a multiple of pool 14"),
        ("stages: [unclosed", "not valid YAML"),
        ("- just\n- a list", "<root>: expected a mapping"),
        ("", "is empty; a search space file describes stem, stages"),
    ],
)
def test_invalid_files_fail_with_the_key_path(tmp_path: Path, data, fragment: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(SearchSpaceError) as err:
        SearchSpace.from_yaml(path)
    assert str(path) in str(err.value)
    assert fragment in str(err.value)


def test_missing_file() -> None:
    with pytest.raises(SearchSpaceError, match="does not exist"):
        SearchSpace.from_yaml("no/such/space.yaml")


def test_hash_ignores_formatting(tmp_path: Path) -> None:
    a = SearchSpace.from_yaml(DEFAULT_SPACE)
    b = SearchSpace.from_yaml(_write(tmp_path, yaml.safe_dump(yaml.safe_load(DEFAULT_SPACE.read_text()), default_flow_style=True)))
    assert a.hash == b.hash


def test_a_folder_is_not_a_space(tmp_path) -> None:
    with pytest.raises(SearchSpaceError, match=rf"{tmp_path} is a folder, not a search space file; give a YAML file"):
        SearchSpace.from_yaml(tmp_path)
