"""Supernet training and scoring: the sampling schemes, exact resume after an interrupt,
refused resumes, scoring a candidate end to end (recalibration touches only batch-norm
statistics), and the supernet folder's failure modes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

import nas.supernet.training as training
from nas.errors import Interrupted, SupernetError
from nas.eval.options import PROJECT
from nas.model.rcnn import build_densepose_rcnn
from nas.space.search_space import SearchSpace
from nas.supernet.config import SupernetTrainConfig
from nas.supernet.sampling import SCHEMES, extreme_arch, step_archs
from nas.supernet.scoring import ScoreConfig, SupernetScorer
from nas.supernet.store import WEIGHTS, load_supernet
from nas.supernet.training import train_supernet


def _config(**changes) -> SupernetTrainConfig:
    settings = {"steps": 4, "batch_size": 2, "device": "cpu", "threads": 1, "checkpoint_every": 2, **changes}
    return SupernetTrainConfig(**settings)


@pytest.fixture(scope="module")
def trained_folder(tiny_space, tiny_dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("supernet") / "uniform"
    train_supernet(tiny_space, tiny_dataset, _config(), out, progress=False)
    return out


def test_every_scheme_draws_from_seed_and_step_alone(default_space) -> None:
    for scheme in SCHEMES.names():
        first = [a.to_string() for a in step_archs(default_space, scheme, 3, 17)]
        again = [a.to_string() for a in step_archs(default_space, scheme, 3, 17)]
        other = [a.to_string() for a in step_archs(default_space, scheme, 3, 18)]
        assert first == again and first != other
    assert len(step_archs(default_space, "uniform", 0, 0)) == 1
    assert len(step_archs(default_space, "sandwich", 0, 0)) == 4


def test_sandwich_extremes_share_their_family_and_take_the_extreme_sizes(default_space: SearchSpace) -> None:
    for family in range(5):
        largest = extreme_arch(default_space, True, np.random.default_rng(family))
        smallest = extreme_arch(default_space, False, np.random.default_rng(family))
        assert [s.block for s in largest.stages] == [s.block for s in smallest.stages]
        assert largest.neck.variant == smallest.neck.variant
        for big, small, choices in zip(largest.stages, smallest.stages, default_space.stages):
            assert (big.channels, big.depth) == (max(choices.widths), max(choices.depths))
            assert (small.channels, small.depth) == (min(choices.widths), min(choices.depths))
        assert largest.stem.channels == max(default_space.stem_channels)
        assert largest.neck.channels == max(default_space.neck_channels) and smallest.neck.channels == min(default_space.neck_channels)


def test_a_fair_step_trains_every_block_type_and_neck_variant_equally(default_space: SearchSpace) -> None:
    for step in range(5):
        archs = step_archs(default_space, "fair", 1, step)
        assert len(archs) == 4
        for index, choices in enumerate(default_space.stages):
            used = Counter(a.stages[index].block for a in archs)
            # a stage of fewer than four types: each used once or twice
            assert set(used) == set(choices.blocks) and max(used.values()) - min(used.values()) <= 1, (index, used)
        assert sorted(a.neck.variant for a in archs) == sorted(default_space.neck_variants)
        assert len({a.to_string() for a in archs}) == 4


@pytest.mark.parametrize("scheme", ["uniform", "sandwich", "fair"])
def test_an_interrupted_training_resumes_exactly(scheme, tiny_space, tiny_dataset, tmp_path, monkeypatch) -> None:
    config = _config(scheme=scheme, steps=5, checkpoint_every=3)
    straight = train_supernet(tiny_space, tiny_dataset, config, tmp_path / "straight", progress=False)

    real_step = training._step

    def interrupted_at_4(run) -> None:  # Ctrl-C after step 4 (between checkpoints)
        if run.step == 4:
            raise KeyboardInterrupt
        real_step(run)

    monkeypatch.setattr(training, "_step", interrupted_at_4)
    with pytest.raises(Interrupted, match="stopped at step 4 of 5"):
        train_supernet(tiny_space, tiny_dataset, config, tmp_path / "parts", progress=False)
    monkeypatch.setattr(training, "_step", real_step)
    messages: list[str] = []
    resumed = train_supernet(tiny_space, tiny_dataset, config, tmp_path / "parts", progress=False, log=messages.append)

    assert resumed.resumed_at == 4 and "at step 4 of 5" in messages[0]
    assert resumed.losses == straight.losses and len(resumed.losses) == 5
    want = load_supernet(tmp_path / "straight").supernet.state_dict()
    got = load_supernet(tmp_path / "parts").supernet.state_dict()
    assert want.keys() == got.keys() and all(torch.equal(want[k], got[k]) for k in want)


def test_a_resume_with_other_settings_or_space_is_refused(trained_folder, tiny_space, tiny_dataset, default_space) -> None:
    with pytest.raises(SupernetError, match=r"other settings \(lr 0.003 -> 0.001\)"):
        train_supernet(tiny_space, tiny_dataset, _config(lr=1e-3), trained_folder, progress=False)
    with pytest.raises(SupernetError, match="trained on search space 'tiny'"):
        train_supernet(default_space, tiny_dataset, _config(), trained_folder, progress=False)


def test_a_finished_training_is_not_trained_again(trained_folder, tiny_space, tiny_dataset) -> None:
    before = (trained_folder / WEIGHTS).stat().st_mtime_ns
    result = train_supernet(tiny_space, tiny_dataset, _config(device="cpu", threads=1), trained_folder, progress=False)
    assert result.steps == 4 and result.resumed_at == 4
    assert (trained_folder / WEIGHTS).stat().st_mtime_ns == before


def test_scoring_recalibrates_only_batch_norm_statistics(trained_folder, tiny_space, tiny_dataset) -> None:
    trained = load_supernet(trained_folder, tiny_space)
    assert trained.steps == 4 and trained.config.scheme == "uniform"
    scorer = SupernetScorer(trained, tiny_dataset, ScoreConfig(bn_batches=2, val_images=2, device="cpu", threads=1))
    arch = tiny_space.sample(5)
    score = scorer(arch)
    assert set(score.seconds) == {"extract", "recalibrate", "evaluate"}
    assert 0.0 <= score.gps_ap <= 100.0 and "gpsm_ap" in score.metrics
    extracted = trained.supernet.extract(arch)
    scored = score.model.state_dict()
    moved = {k for k in extracted if not torch.equal(extracted[k], scored[k].contiguous())}
    assert moved and all(k.endswith(("running_mean", "running_var", "num_batches_tracked")) for k in moved)
    # the same candidate scores the same again: fixed batches, fixed validation images
    assert scorer(arch).metrics == score.metrics


def test_fine_tuning_moves_the_weights_and_keeps_the_supernet(trained_folder, tiny_space, tiny_dataset) -> None:
    trained = load_supernet(trained_folder)
    before = {k: v.clone() for k, v in trained.supernet.state_dict().items()}
    scorer = SupernetScorer(trained, tiny_dataset, ScoreConfig(bn_batches=1, finetune_steps=2, val_images=2, device="cpu",
                                                                threads=1, options=PROJECT))
    arch = tiny_space.sample(2)
    score = scorer(arch)
    assert "finetune" in score.seconds
    extracted = trained.supernet.extract(arch)
    assert any(not torch.equal(extracted[k], v.contiguous()) for k, v in score.model.state_dict().items() if k.endswith("weight"))
    assert all(torch.equal(before[k], v) for k, v in trained.supernet.state_dict().items())


def test_bad_supernet_folders_and_candidates_are_refused(trained_folder, tiny_space, default_space, tmp_path) -> None:
    with pytest.raises(SupernetError, match="does not exist"):
        load_supernet(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SupernetError, match="holds no supernet.pt"):
        load_supernet(tmp_path / "empty")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / WEIGHTS).write_bytes((trained_folder / WEIGHTS).read_bytes()[:5000])
    with pytest.raises(SupernetError, match="cannot read weights file"):
        load_supernet(corrupt)
    with pytest.raises(SupernetError, match="not on 'densepose_mobile'"):
        load_supernet(trained_folder, default_space)
    with pytest.raises(SupernetError, match="must be at least 1"):
        ScoreConfig(bn_batches=0)
    with pytest.raises(SupernetError, match="--steps must be at least 1"):
        SupernetTrainConfig(steps=0)


def test_a_candidate_outside_the_space_is_refused_before_scoring(trained_folder, tiny_dataset, default_space) -> None:
    scorer = SupernetScorer(load_supernet(trained_folder), tiny_dataset, ScoreConfig(bn_batches=1, val_images=1, device="cpu"))
    outside = default_space.sample(0)
    build_densepose_rcnn(outside)  # a valid architecture, just not one of the tiny space
    with pytest.raises(SupernetError, match="outside the search space 'tiny'"):
        scorer(outside)
