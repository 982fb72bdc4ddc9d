"""The "learned" floor: fast candidates that learned nothing are not good trials to a sampler."""

from __future__ import annotations

import math

import optuna
import pytest
from optuna.samplers._tpe.sampler import _split_trials

from nas.errors import SearchError
from nas.search.config import SearchConfig
from nas.search.objective import DEFAULT_MIN_GPS_AP, Objective
from nas.runs.rows import TrialRow
from nas.search.samplers import CONSTRAINT, LEARNED_CONSTRAINT, make_sampler
from nas.search.searcher import tell


def _row(number: int, ap: float, latency: float, status: str = "finished") -> TrialRow:
    return TrialRow(trial=f"t{number:04d}", number=number, kind="search", baseline="", arch=f"a{number}", arch_id="id",
                    status=status, gps_ap=ap, latency_ms=latency)


def test_violation_is_floor_minus_ap_under_the_pareto_objective() -> None:
    objective = Objective()
    assert objective.min_gps_ap == DEFAULT_MIN_GPS_AP == 1.0
    assert objective.learned_violation(0.25) == pytest.approx(0.75)
    assert objective.learned_violation(12.0) == pytest.approx(-11.0)
    assert objective.learned_violation(float("nan")) == pytest.approx(1.0)  # undefined AP counts as 0
    assert objective.learned_violation(-1.0) == pytest.approx(1.0)


def test_no_floor_for_the_reward_or_when_turned_off() -> None:
    assert Objective("reward", target_ms=50.0).learned_violation(0.0) is None
    assert Objective(min_gps_ap=0.0).learned_violation(0.0) is None


@pytest.mark.parametrize("floor", [-1.0, 100.0, math.nan])
def test_bad_floor_is_a_clear_error(floor: float) -> None:
    with pytest.raises(SearchError, match="--min-gps-ap must be a GPS AP between 0 and 100"):
        Objective(min_gps_ap=floor)


def _study(objective: Objective, rows: list[TrialRow]) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=make_sampler("tpe", 0, 40))
    for row in rows:
        trial = study.ask()
        assert trial.number == row.number
        tell(study, trial.number, row, objective)
    return study


def test_told_trials_carry_the_constraint() -> None:
    study = _study(Objective(), [_row(0, 0.3, 10.0), _row(1, 7.5, 40.0)])
    assert [t.constraints for t in study.trials] == [{LEARNED_CONSTRAINT: pytest.approx(0.7)}, {LEARNED_CONSTRAINT: pytest.approx(-6.5)}]
    assert [t.values for t in study.trials] == [[0.3, 10.0], [7.5, 40.0]]  # values and front unchanged


def test_rejected_trials_keep_only_the_latency_constraint() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    trial = study.ask()
    trial.set_constraint(CONSTRAINT, 5.0)
    tell(study, trial.number, _row(0, math.nan, 105.0, status="rejected"), Objective())
    assert study.trials[0].constraints == {CONSTRAINT: 5.0}


def test_tpe_good_set_holds_learners_not_the_fast_networks_that_learned_nothing() -> None:
    """20 trials, TPE's good set is 2 (a tenth): without the floor the fastest trial (AP
    0.1) is non-dominated, so it is in it beside the best learner; with the floor the good
    set is the two learners."""
    rows = [_row(0, 0.1, 5.0), _row(1, 0.05, 8.0)]  # fast, learned nothing
    rows += [_row(2 + i, 0.2, 100.0 + i) for i in range(16)]  # slow, learned nothing
    rows += [_row(18, 15.0, 60.0), _row(19, 9.0, 70.0)]  # learners

    def good(objective: Objective) -> set[int]:
        study = _study(objective, rows)
        below, _ = _split_trials(study, study.get_trials(deepcopy=False), 2)
        return {t.number for t in below}

    assert good(Objective(min_gps_ap=0.0)) == {0, 18}
    assert good(Objective()) == {18, 19}


def test_nothing_learned_ranks_by_ap() -> None:
    """When no trial reaches the floor the sampler's good set is the highest APs."""
    rows = [_row(0, 0.1, 5.0), _row(1, 0.6, 80.0), _row(2, 0.5, 70.0), _row(3, 0.2, 6.0)] + [_row(4 + i, 0.0, 50.0) for i in range(16)]
    study = _study(Objective(), rows)
    below, _ = _split_trials(study, study.get_trials(deepcopy=False), 2)
    assert {t.number for t in below} == {1, 2}


def test_runs_from_before_the_floor_resume_without_it(tmp_path) -> None:
    config = SearchConfig(space="s.yaml", table="t", data="d", out=str(tmp_path), trials=3)
    data = config.to_dict()
    assert data["objective"]["min_gps_ap"] == DEFAULT_MIN_GPS_AP
    del data["objective"]["min_gps_ap"]
    assert SearchConfig.from_dict(data).objective.min_gps_ap == 0.0


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--min-gps-ap", "-3", "--min-gps-ap must be a GPS AP between 0 and 100 points, got -3.0"),
    ("--ema-decay", "1.5", "--ema-decay is a decay per step in [0, 1) (0: off), got 1.5"),
])
def test_cli_bad_setting_exits_cleanly(tmp_path, capsys, option: str, value: str, message: str) -> None:
    from nas.cli import main

    code = main(["search", "--out", str(tmp_path / "run"), "--table", str(tmp_path), "--data", str(tmp_path),
                 "--trials", "2", option, value])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # nothing written
