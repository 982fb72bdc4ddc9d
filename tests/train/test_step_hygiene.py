"""What a training step leaves behind: losses read back when the device allows, a diverged
run stopped with the step named and no diverged checkpoint, the model in channels-last
layout while it trains and the default layout when it is returned; and a step that never
waits for the device: on CUDA under ``torch.cuda.set_sync_debug_mode("error")``, on any
device under :class:`NoHostReads`, which refuses every tensor-to-Python conversion and
every data-dependent shape (what would make the host wait for a GPU)."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from nas.data import collate
from nas.train.loop import learn
from nas.train.session import set_up

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


aten = torch.ops.aten
# operators whose result the host must see before it can go on
READS = {
    aten._local_scalar_dense.default: "a tensor read as a Python number (.item(), bool(), int(), float(), an index)",
    aten.nonzero.default: "nonzero (a data-dependent shape)",
    aten.masked_select.default: "masked_select (a data-dependent shape)",
    aten._unique2.default: "unique (a data-dependent shape)",
    aten.unique_dim.default: "unique (a data-dependent shape)",
    aten.unique_consecutive.default: "unique_consecutive (a data-dependent shape)",
    aten.equal.default: "torch.equal (a value read back)",
    aten.repeat_interleave.Tensor: "repeat_interleave by a tensor (a data-dependent shape)",
}
CONVERSIONS = {torch.Tensor.tolist: "tolist()", torch.Tensor.numpy: "numpy()", torch.Tensor.cpu: "cpu()", torch.Tensor.item: "item()"}


class HostRead(AssertionError):
    """The host would wait for the device here."""


class _NoReadsDispatch(TorchDispatchMode):
    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        if func in READS:
            raise HostRead(READS[func])
        if func in (aten.index.Tensor, aten.index_put.default, aten.index_put_.default, aten._index_put_impl_.default):
            if any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in args[1] if i is not None):
                raise HostRead(f"boolean-mask indexing in {func} (a data-dependent shape)")
        return func(*args, **(kwargs or {}))


class _NoReadsFunctions(TorchFunctionMode):
    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        if func in CONVERSIONS:
            raise HostRead(f"tensor.{CONVERSIONS[func]} (a copy to the host)")
        return func(*args, **(kwargs or {}))


@contextmanager
def NoHostReads() -> Iterator[None]:
    """Raises :class:`HostRead` on anything in the block that needs a tensor's value on the
    host (on CUDA: a synchronisation), whichever device the tensors are on."""
    with ExitStack() as stack:
        stack.enter_context(_NoReadsFunctions())
        stack.enter_context(_NoReadsDispatch())
        if torch.cuda.is_available():
            previous = torch.cuda.get_sync_debug_mode()
            torch.cuda.set_sync_debug_mode("error")
            stack.callback(torch.cuda.set_sync_debug_mode, previous)
        yield


@pytest.mark.parametrize("call", [
    lambda x: x.sum().item(), lambda x: bool(x.sum() > 0), lambda x: float(x[0]), lambda x: x.tolist(),
    lambda x: torch.nonzero(x > 0), lambda x: x[x > 0], lambda x: torch.unique(x), lambda x: torch.equal(x, x),
    lambda x: range(10)[x.argmax()], lambda x: x.numpy(),
])
def test_no_host_reads_refuses_each_way_of_reading_a_tensor(call) -> None:
    x = torch.randn(5)
    call(x)  # fine outside
    with pytest.raises(HostRead), NoHostReads():
        call(x)


def _sync_free_session(tiny_dataset, device: str):
    session = set_up(ARCH, tiny_dataset, _config(steps=10, batch_size=4, device=device))
    session.sync_free = True  # what set_up chooses on CUDA, chosen here on any device
    session.model.use_static_shapes()
    images, targets = collate([session.train_set[i] for i in range(4)])
    return session, images.to(session.device), targets


@pytest.mark.parametrize("device", ["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
def test_a_sync_free_training_step_reads_nothing_from_the_device(tiny_dataset, device: str) -> None:
    session, images, targets = _sync_free_session(tiny_dataset, device)
    session.model.train()
    state = TrainState()
    learn(session, state, images, targets, 1e-3)  # first step outside: optimiser state, allocator warm-up
    before = [p.detach().clone() for p in session.model.parameters()]
    with NoHostReads():
        learn(session, state, images, targets, 1e-3)
    assert len(session.unread_losses) == 2  # nothing read inside: both losses wait
    read_losses(session, state)
    assert len(state.recent_losses) == 2 and all(v > 0 for v in state.recent_losses)
    moved = sum(not torch.equal(a, p) for a, p in zip(before, session.model.parameters()))
    assert moved > len(before) // 2  # the guarded step did update the weights


def test_the_default_cpu_step_reads_from_the_device_and_the_guard_sees_it(tiny_dataset) -> None:
    session, images, targets = _sync_free_session(tiny_dataset, "cpu")
    session.model.train()
    state = TrainState()
    session.model.use_static_shapes(False)  # the per-image path: sampling sizes come from nonzero
    with pytest.raises(HostRead), NoHostReads():
        learn(session, state, images, targets, 1e-3)
    session.model.use_static_shapes(True)
    session.sync_free = False  # the CPU's divergence check reads the loss before the update
    with pytest.raises(HostRead, match="read as a Python number|tolist"), NoHostReads():
        learn(session, state, images, targets, 1e-3)
