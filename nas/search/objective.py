"""Search objectives: the Pareto pair (GPS AP up, latency down) or the MnasNet reward.

MnasNet (Tan et al. 2019) scores a model by ``ACC * (LAT / T) ** w``: with the soft
exponent ``w = -0.07`` every millisecond counts a little; with the hard one ``w`` is 0
under the target ``T`` and -1 over it, so a model over the target is penalised in
proportion to how far over it is. ACC here is GPS AP in percent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nas.errors import SearchError
from nas.io import excerpt

__all__ = ["Objective", "OBJECTIVES", "REWARD_MODES", "SOFT_W", "DEFAULT_MIN_GPS_AP", "mnas_reward"]

OBJECTIVES = ("pareto", "reward")
REWARD_MODES = ("soft", "hard")
SOFT_W = -0.07
# GPS AP points: under it a candidate did not learn within the proxy budget (see
# Objective.learned_violation). The demo's proxy leaves most random candidates under 1.
DEFAULT_MIN_GPS_AP = 1.0


def _defined_ap(ap: float) -> float:
    """AP in percent, with an undefined one (-1 or NaN: nothing detected) counted as 0."""
    return 0.0 if not math.isfinite(ap) or ap < 0 else ap


def mnas_reward(ap: float, latency_ms: float, target_ms: float, mode: str = "soft") -> float:
    """``ap * (latency_ms / target_ms) ** w``; an undefined AP (-1 or NaN) scores 0."""
    ap = _defined_ap(ap)
    if mode == "soft":
        w = SOFT_W
    elif mode == "hard":
        w = 0.0 if latency_ms <= target_ms else -1.0
    else:
        raise SearchError(f"unknown reward mode {excerpt(mode)}; known: {', '.join(REWARD_MODES)}")
    return ap * (latency_ms / target_ms) ** w


@dataclass(frozen=True)
class Objective:
    """What Optuna optimises.

    Attributes:
        kind: ``pareto`` (two objectives) or ``reward`` (one).
        target_ms: the reward's latency target T (ms); required for ``reward``.
        reward_mode: ``soft`` or ``hard`` exponent.
        min_gps_ap: GPS AP (points) under which a finished candidate counts as not having
            learned within the proxy budget (Pareto objective only, see
            :meth:`learned_violation`); 0 turns the floor off.
    """

    kind: str = "pareto"
    target_ms: float | None = None
    reward_mode: str = "soft"
    min_gps_ap: float = DEFAULT_MIN_GPS_AP

    def __post_init__(self) -> None:
        if self.kind not in OBJECTIVES:
            raise SearchError(f"unknown objective {excerpt(self.kind)}; known: {', '.join(OBJECTIVES)}")
        if self.reward_mode not in REWARD_MODES:
            raise SearchError(f"unknown reward mode {excerpt(self.reward_mode)}; known: {', '.join(REWARD_MODES)}")
        if not (math.isfinite(self.min_gps_ap) and 0.0 <= self.min_gps_ap < 100.0):
            raise SearchError(f"--min-gps-ap must be a GPS AP between 0 and 100 points, got {self.min_gps_ap}")
        if self.kind == "reward" and (self.target_ms is None or not 0 < self.target_ms < math.inf):
            raise SearchError("--objective reward needs a positive, finite --target-ms (the latency target T of the MnasNet reward)")

    @property
    def metrics(self) -> list[str] | str:
        """Result keys Optuna reads (a list for multi-objective)."""
        return ["gps_ap", "latency_ms"] if self.kind == "pareto" else "reward"

    @property
    def modes(self) -> list[str] | str:
        return ["max", "min"] if self.kind == "pareto" else "max"

    @property
    def asha_metric(self) -> tuple[str, str]:
        """The single metric early stopping ranks trials by, and its mode."""
        return ("asha_score", "max")

    def asha_score(self, ap: float, latency_ms: float) -> float:
        """Early-stopping rank: the reward, or for the Pareto pair AP with latency breaking
        ties (1e-6 AP point per ms: never outweighs a real AP difference, but at the
        first evaluation points of a short proxy, where many APs are still 0, it stops
        the slower of two equal candidates rather than none)."""
        ap = _defined_ap(ap)
        return self.reward(ap, latency_ms) if self.kind == "reward" else ap - 1e-6 * latency_ms

    def reward(self, ap: float, latency_ms: float) -> float:
        if self.kind != "reward":
            return float("nan")
        assert self.target_ms is not None
        return mnas_reward(ap, latency_ms, self.target_ms, self.reward_mode)

    def learned_violation(self, ap: float) -> float | None:
        """The "learned" constraint of a finished candidate for the sampler: ``min_gps_ap - AP``
        (feasible when <= 0), or None when there is no floor.

        With two objectives, Optuna's TPE and NSGA-II rank candidates by non-domination, so
        the fastest candidate is always among the best ones, however little it learned: on a
        proxy where most candidates stay near 0 AP, TPE's few "good" trials (a tenth of the
        run) are mostly fast networks that learned nothing, and it keeps proposing more of
        them. Telling those trials as infeasible takes them out of the good set until every
        feasible one is in it; among infeasible ones the higher AP still ranks first. The
        Pareto front, the rows and the values told are unchanged. The reward objective
        needs no floor: its value is proportional to AP.
        """
        if self.kind != "pareto" or self.min_gps_ap <= 0.0:
            return None
        ap = _defined_ap(ap)
        return self.min_gps_ap - ap

    def values(self, ap: float, latency_ms: float) -> list[float]:
        """Objective values told to Optuna (an untrained or undefined AP counts as 0)."""
        ap = _defined_ap(ap)
        return [ap, latency_ms] if self.kind == "pareto" else [self.reward(ap, latency_ms)]
