"""Ctrl-C during a write that must stay whole: held back, then raised once it is whole."""

from __future__ import annotations

import os
import signal

import pytest

from nas.interrupts import interrupts_deferred


def test_an_interrupt_inside_the_block_is_raised_after_it() -> None:
    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("after the signal")  # the block went on to its end
    assert steps == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C works as before


def test_no_interrupt_no_exception_and_a_caller_handler_is_left_alone() -> None:
    with interrupts_deferred():
        pass
    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
        assert seen == [signal.SIGINT]  # the caller's handler ran, nothing was deferred
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_inside_a_journal_append_leaves_no_lock_and_a_whole_line(tmp_path, monkeypatch) -> None:
    """The CI failure this guards: SIGINT inside the lock's release turned into an
    OSError naming a missing ``study.journal.lock….rename`` file, the lock left behind."""
    import optuna
    from optuna.storages.journal import JournalFileSymlinkLock

    from nas.runs.store import ResultsStore, journal_storage

    store = ResultsStore(tmp_path / "run")
    storage = journal_storage(store)
    release = JournalFileSymlinkLock.release

    def interrupted_release(self) -> None:  # Ctrl-C lands just as the lock is given back
        os.kill(os.getpid(), signal.SIGINT)
        release(self)

    monkeypatch.setattr(JournalFileSymlinkLock, "release", interrupted_release)
    with pytest.raises(KeyboardInterrupt):
        optuna.create_study(study_name="s", storage=storage)
    monkeypatch.undo()
    assert sorted(p.name for p in store.root.iterdir()) == ["study.journal"]  # no lock nor rename file left
    lines = store.journal_path.read_bytes().splitlines(keepends=True)
    assert lines and all(line.endswith(b"\n") for line in lines)
    assert optuna.load_study(study_name="s", storage=journal_storage(store)).study_name == "s"
