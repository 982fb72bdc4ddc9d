"""What a training step leaves behind: losses read back when the device allows, a diverged
run stopped with the step named and no diverged checkpoint, the model in channels-last
layout while it trains and the default layout when it is returned."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from nas.train import train
from nas.train.checkpoint import load_checkpoint
from nas.train.loop import TrainingDiverged, read_losses
from nas.train.state import TrainState
from tests.train.test_train import ARCH, _config


def _pending(*values: float) -> SimpleNamespace:
    return SimpleNamespace(unread_losses=[(k + 1, torch.tensor(v), {"rpn_cls": torch.tensor(v)}) for k, v in enumerate(values)])


def test_read_losses_appends_the_values_in_step_order_and_empties_the_buffer() -> None:
    session, state = _pending(1.5, 0.25, 2.0), TrainState()
    read_losses(session, state)  # type: ignore[arg-type]
    assert list(state.recent_losses) == [1.5, 0.25, 2.0] and session.unread_losses == []
    read_losses(session, state)  # type: ignore[arg-type]  # nothing new: nothing changes
    assert list(state.recent_losses) == [1.5, 0.25, 2.0]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_read_losses_names_the_first_step_that_diverged(bad: float) -> None:
    session, state = _pending(1.0, bad, float("nan")), TrainState()
    with pytest.raises(TrainingDiverged, match=rf"diverged at step 2: loss {bad} \(rpn_cls {bad}\); try a lower --lr"):
        read_losses(session, state)  # type: ignore[arg-type]
    assert list(state.recent_losses) == [1.0]


def test_a_diverging_run_stops_before_any_checkpoint_of_diverged_weights(tiny_dataset, tmp_path) -> None:
    with pytest.raises(TrainingDiverged, match=r"training diverged at step \d+"):
        train(ARCH, tiny_dataset, _config(steps=6, lr=1e12, grad_clip=1e12), out_dir=tmp_path, progress=False)
    if (tmp_path / "checkpoint.pt").exists():  # only an evaluation point before the divergence writes one
        saved = load_checkpoint(tmp_path / "checkpoint.pt")
        assert all(torch.isfinite(v).all() for v in saved["model"].values() if v.is_floating_point())


def test_the_model_trains_channels_last_and_is_returned_in_the_default_layout(tiny_dataset, monkeypatch) -> None:
    from nas.train import loop

    layouts = []
    step = loop.train_step

    def spy(session, state, done):
        conv = next(p for p in session.model.parameters() if p.dim() == 4)
        layouts.append(conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous())
        return step(session, state, done)

    monkeypatch.setattr(loop, "train_step", spy)
    result = train(ARCH, tiny_dataset, _config(steps=2), progress=False)
    assert layouts == [True, True]
    assert all(p.is_contiguous() for p in result.model.parameters())
    assert result.model.input_format == torch.contiguous_format
