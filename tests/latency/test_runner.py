"""Interleaved timing and its budget: which programs run how often, on fake programs of
known duration (the real runtime is timed in test_remote.py and test_profile.py)."""

from __future__ import annotations

import pytest

from nas.latency.runner import budgeted_runs, interleaved, main


class FakeProgram:
    """A program whose every run 'takes' ``ms`` (the first ``cold_ms`` when given)."""

    def __init__(self, ms: float, cold_ms: float | None = None) -> None:
        self.ms, self.cold_ms, self.calls = ms, cold_ms, 0

    def __call__(self) -> float:
        self.calls += 1
        return self.cold_ms if self.calls == 1 and self.cold_ms is not None else self.ms


def test_budgeted_runs_by_hand() -> None:
    # 15 rounds of a 100 ms op are 1,500 ms; a 150 ms budget is a tenth of that
    assert budgeted_runs(15, 100.0, 150.0, 15, 5) == 5  # ceil(1.5) = 2, raised to the floor
    assert budgeted_runs(5, 100.0, 150.0, 15, 1) == 1  # ceil(0.5)
    assert budgeted_runs(15, 20.0, 150.0, 15, 5) == 8  # half: ceil(7.5)
    assert budgeted_runs(5, 20.0, 150.0, 15, 1) == 3  # ceil(2.5)
    assert budgeted_runs(15, 10.0, 150.0, 15, 5) == 15  # fits exactly
    assert budgeted_runs(15, 500.0, None, 15, 5) == 15  # no budget
    assert budgeted_runs(15, 500.0, 0.0, 15, 5) == 15  # 0 means none


def test_without_budget_every_program_runs_warmup_plus_rounds() -> None:
    programs = {"fast": FakeProgram(1.0), "slow": FakeProgram(400.0)}
    samples = interleaved(programs, warmup=5, rounds=15, seed=3)
    assert {n: len(s) for n, s in samples.items()} == {"fast": 15, "slow": 15}
    assert programs["fast"].calls == programs["slow"].calls == 20


def test_budget_cuts_only_the_slow_programs() -> None:
    programs = {"fast": FakeProgram(1.0), "mid": FakeProgram(20.0), "slow": FakeProgram(100.0), "huge": FakeProgram(14_000.0)}
    samples = interleaved(programs, warmup=5, rounds=15, seed=0, budget_ms=150.0)
    assert {n: len(s) for n, s in samples.items()} == {"fast": 15, "mid": 8, "slow": 5, "huge": 5}
    assert {n: p.calls - len(samples[n]) for n, p in programs.items()} == {"fast": 5, "mid": 3, "slow": 2, "huge": 2}  # warm-ups
    assert samples["huge"] == [14_000.0] * 5


def test_budget_is_sized_on_the_fastest_warmup_not_the_cold_first_run() -> None:
    programs = {"op": FakeProgram(10.0, cold_ms=300.0)}  # the first run pays one-off costs
    samples = interleaved(programs, warmup=5, rounds=15, seed=0, budget_ms=150.0)
    # the cold run alone would allow ceil(5 x 150 / 4500) = 1 warm-up; the second one (10 ms)
    # sizes the rounds: all 15, where the cold run would have left 5
    assert programs["op"].calls - len(samples["op"]) == 2 and len(samples["op"]) == 15
    programs = {"op": FakeProgram(100.0, cold_ms=100.0)}
    interleaved(programs, warmup=1, rounds=15, seed=0, budget_ms=150.0)
    assert programs["op"].calls == 1 + 5  # one warm-up asked for: no second one added


def test_budget_without_warmup_sizes_on_the_first_timed_run() -> None:
    programs = {"fast": FakeProgram(1.0), "slow": FakeProgram(100.0)}
    samples = interleaved(programs, warmup=0, rounds=15, seed=0, budget_ms=150.0, min_rounds=3)
    assert {n: len(s) for n, s in samples.items()} == {"fast": 15, "slow": 3}
    assert programs["slow"].calls == 3


def test_interleaving_shuffles_rounds_reproducibly() -> None:
    def run(seed: int) -> list[str]:
        log: list[str] = []
        timers = {n: (lambda n=n: log.append(n) or 1.0) for n in "abcdef"}
        interleaved(timers, warmup=0, rounds=4, seed=seed)
        return log

    assert run(1) == run(1) and run(1) != run(2)
    rounds = [run(1)[i * 6 : (i + 1) * 6] for i in range(4)]
    assert all(sorted(r) == list("abcdef") for r in rounds) and len({tuple(r) for r in rounds}) > 1


def test_runner_script_rejects_nothing_it_documents(tmp_path, capsys) -> None:
    """The flags the transports pass parse; a missing program is reported, not raised."""
    assert main(["--threads", "1", "--warmup", "1", "--rounds", "2", "--seed", "0", "--budget-ms", "150", "--min-rounds", "2",
                 str(tmp_path / "absent.pte")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("NASLAT-ERROR absent.pte") and out[-1] == "NASLAT-END 0"


@pytest.mark.parametrize("budget", [0.0, 150.0])
def test_min_rounds_never_exceeds_rounds(budget: float) -> None:
    samples = interleaved({"slow": FakeProgram(1_000.0)}, warmup=1, rounds=3, budget_ms=budget or None, min_rounds=5)
    assert len(samples["slow"]) == 3
