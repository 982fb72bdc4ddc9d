"""bench/bench_train_unchanged.py: the trial command carries the whole proxy, a --before that
is not a checkout of nas is refused in one line, and its quick mode end to end with this
checkout on both sides: the same code at the same seed must score identically."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from nas.errors import NasError
from nas.export.record import shipped_record
from nas.shipped import DEFAULT_SPACE, shipped
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec
from nas.train.proxy import DEFAULT_PROXY
from tests.bench.conftest import bench_script
from tests.train.test_train import ARCH as TRAIN_TEST_ARCH

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_train_unchanged.py"
ARCH = TRAIN_TEST_ARCH.to_string()  # the small network the training tests use


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    with bench_script("bench_train_unchanged") as module:
        yield module


def test_the_trial_command_gives_every_proxy_setting(bench: ModuleType, tmp_path: Path) -> None:
    config = replace(DEFAULT_PROXY, seed=3, device="cpu", threads=1)
    command = bench.trial_command(ArchSpec.from_string(ARCH), tmp_path, config)
    assert command[1:5] == ["-m", "nas", "train", ArchSpec.from_string(ARCH).to_string()]
    given: dict[str, list[str]] = {}
    for token in command[5:]:  # the options after the spec, each with its values
        if token.startswith("--"):
            given[token] = []
        else:
            given[list(given)[-1]].append(token)
    assert given["--json"] == [] and given["--data"] == [str(tmp_path)]
    assert given["--proxy-input"] == [str(n) for n in DEFAULT_PROXY.input_size]
    assert given["--budget-steps"] == [str(DEFAULT_PROXY.budget.steps)]
    assert given["--val-images"] == [str(DEFAULT_PROXY.val_images)] and given["--batch-size"] == [str(DEFAULT_PROXY.batch_size)]
    assert (given["--seed"], given["--device"], given["--threads"]) == (["3"], ["cpu"], ["1"])
    assert float(given["--lr"][0]) == DEFAULT_PROXY.lr and float(given["--ema-decay"][0]) == DEFAULT_PROXY.ema_decay
    # a setting nas train cannot be given would make the trials silently run another proxy
    with pytest.raises(NasError, match="the proxy sets grad_clip, which nas train has no option for"):
        bench.trial_command(ArchSpec.from_string(ARCH), tmp_path, replace(config, grad_clip=1.0))


def test_the_mid_network_comes_first_then_the_draws_of_the_sample_seed(bench: ModuleType) -> None:
    space = SearchSpace.from_yaml(shipped(DEFAULT_SPACE))
    rng = np.random.default_rng(5)
    draws = [space.sample(rng) for _ in range(3)]
    assert bench.pick_archs(4, 5, ArchSpec.from_string(ARCH)) == [ArchSpec.from_string(ARCH), *draws]
    # a draw equal to the mid network is not taken twice
    assert bench.pick_archs(3, 5, draws[0]) == [draws[0], draws[1], draws[2]]


def test_a_before_that_is_not_a_checkout_is_refused(tiny_dataset: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--before", str(tmp_path), "--quick", "--data", str(tiny_dataset),
                           "--json", str(report)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: --before {tmp_path}: not a checkout of nas"), done.stderr
    assert not report.exists()


def test_quick_mode_scores_the_same_code_identically(bench: ModuleType, tiny_dataset: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "unchanged.json"
    # --mid: a small network instead of the space's mid-size one, which takes 30-80 s to find
    monkeypatch.setattr(sys, "argv", ["bench_train_unchanged.py", "--before", str(ROOT), "--quick", "--data", str(tiny_dataset),
                                      "--mid", ARCH, "--json", str(out)])
    bench.main()
    printed, spread = capsys.readouterr().out, shipped_record().seed_median_abs_difference
    assert "2 of 2 with every score identical" in printed and f"seed-to-seed spread: median |difference| {spread}" in printed
    report = json.loads(out.read_text())
    inputs = report["inputs"]
    for role in ("before", "after"):  # each child imported nas from its checkout (here both this one)
        assert inputs[role]["root"] == str(ROOT) and inputs[role]["nas_file"] == str(ROOT / "nas" / "__init__.py")
    assert inputs["quick"] and inputs["proxy"]["budget"]["steps"] == 10 and inputs["threads"] == 1 and inputs["parallel"] == 2
    rows = report["rows"]
    assert [r["arch"] for r in rows] == inputs["archs"] and len(rows) == 2
    assert [r["mid"] for r in rows] == [True, False] and rows[0]["arch"] == inputs["mid"] == ArchSpec.from_string(ARCH).to_string()
    assert inputs["mid_rule"] == "given with --mid"
    for r in rows:
        assert "--budget-steps" in r["command"] and r["command"][r["command"].index("--seed") + 1] == "0"
        for side in ("before", "after"):
            trial = r[side]
            assert trial["metrics"]["steps"] == 10 and math.isfinite(trial["loss"])
            assert trial["train_s"] > 0 and trial["eval_s"] > 0 and trial["wall_s"] > trial["train_s"]
        # the same code at the same seed: every score equal, the training loss to the last digit
        assert r["before"]["loss"] == r["after"]["loss"]
        assert r["gps_ap_difference"] == 0 and r["identical_scores"]
        assert r["wall_ratio"] == pytest.approx(r["before"]["wall_s"] / r["after"]["wall_s"])
    summary = report["summary"]
    assert summary["over"] == 2 and summary["identical_scores"] == 2
    assert summary["median_abs_gps_ap_difference"] == summary["max_abs_gps_ap_difference"] == 0
    assert summary["within_seed_spread"] and summary["archs_beyond_seed_spread"] == 0
    assert summary["mid_wall_ratio"] == rows[0]["wall_ratio"]
    recorded = report["seed_spread"]
    assert recorded["median_abs_difference"] == spread and recorded["sources"][0]["report"] == "bench/reports/proxy_stability.json"
    assert not recorded["measured_for_this_proxy"]  # a 10-step proxy is not the one the spread was measured for


def _report(seed: int, before: list[float], after: list[float]) -> dict:
    return {"inputs": {"seed": seed},
            "rows": [{"id": f"a{k}", "before": {"gps_ap": b}, "after": {"gps_ap": a}} for k, (b, a) in enumerate(zip(before, after))]}


def test_combine_sets_the_change_against_each_codes_seed_spread(bench: ModuleType) -> None:
    first = _report(0, [10.0, 20.0, 30.0, 40.0], [11.0, 18.0, 30.0, 44.0])
    second = _report(1, [12.0, 25.0, 29.0, 40.0], [12.0, 21.0, 35.0, 41.0])
    figures = bench.combine(first, second)
    # the old code's own seed spread: |10-12|, |20-25|, |30-29|, |40-40| -> median of 2, 5, 1, 0 = 1.5
    assert figures["before_seed_median_abs_difference"] == 1.5
    # the change, both seeds: 1, 2, 0, 4 and 0, 4, 6, 1 -> median 1.5
    assert figures["change_median_abs_difference"] == 1.5 and figures["within_seed_spread"]
    assert figures["after_seed_to_seed"]["median_abs_difference"] == 3.0  # 1, 3, 5, 3
    assert figures["change_at_first_seed"]["kendall_tau"] == pytest.approx(1.0)
    with pytest.raises(NasError, match="two different seeds"):
        bench.combine(first, first)
    second["rows"].pop()
    with pytest.raises(NasError, match=r"missing in the second: \['a3'\]"):
        bench.combine(first, second)
