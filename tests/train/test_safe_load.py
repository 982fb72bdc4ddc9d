"""Weights and checkpoints are loaded with tensors and plain data only: a file that would
run code is refused with an error of its own that never advises loading it unsafely."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from nas.errors import ExportError
from nas.export.bundle import _read_weights
from nas.train.checkpoint import CheckpointError, load_checkpoint

MARK = "nas-test-ran-code"


class _RunsCode:
    """Unpickling this calls os.system: what a malicious weights file does."""

    def __reduce__(self):
        return (os.system, (f"touch {MARK}",))


@pytest.fixture
def malicious(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "model.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "extra": _RunsCode()}, path)
    return path


@pytest.mark.parametrize(("load", "error"), [(load_checkpoint, CheckpointError), (_read_weights, ExportError)],
                         ids=["checkpoint", "trial weights"])
def test_code_in_a_weights_file_is_refused_and_never_run(malicious, load, error) -> None:
    with pytest.raises(error) as caught:
        load(malicious)
    message = str(caught.value)
    assert message.startswith(f"{malicious} holds a reference to `")
    assert "system" in message and "nothing in it ran" in message
    assert "weights_only" not in message and "\n" not in message  # PyTorch's advice to load it unsafely is gone
    assert not (malicious.parent / MARK).exists()


def test_a_damaged_checkpoint_keeps_its_own_message(tmp_path) -> None:
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"not a zip")
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert message.startswith(f"cannot read checkpoint {path} (not a file torch.save wrote: ")
    assert "wrote: )" not in message  # PyTorch's finding is kept
    assert message.endswith("; delete it to start over") and "weights_only" not in message and "\n" not in message
