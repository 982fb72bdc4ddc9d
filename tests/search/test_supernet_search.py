"""``nas search --supernet``: a real local Ray search whose trials are scored from a
trained supernet (no proxy training), the rows saying so, the scored weights saved for
export, and the inputs such a run refuses."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from nas.errors import SearchError
from nas.model.rcnn import build_densepose_rcnn
from nas.runs.store import ResultsStore
from nas.search import run_search
from nas.search.cluster import disconnect
from nas.search.config import SearchConfig
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec
from nas.supernet.config import SupernetTrainConfig
from nas.supernet.scoring import ScoreConfig, SupernetScorer
from nas.supernet.store import load_supernet
from nas.supernet.training import train_supernet
from tests.search.conftest import TINY_PROXY, TINY_SPACE, tiny_config


@pytest.fixture(scope="module")
def tiny_supernet_folder(tmp_path_factory, tiny_dataset):
    out = tmp_path_factory.mktemp("supernet") / "tiny"
    config = SupernetTrainConfig(steps=3, batch_size=2, device="cpu", threads=1)
    train_supernet(SearchSpace.from_yaml(TINY_SPACE), tiny_dataset, config, out, progress=False)
    return out


@pytest.mark.slow
def test_a_search_scored_from_a_supernet(tmp_path, tiny_dataset, tiny_table, tiny_supernet_folder) -> None:
    out = tmp_path / "run"
    config = tiny_config(out, tiny_dataset, tiny_table, trials=2, supernet=str(tiny_supernet_folder), supernet_bn_batches=2)
    try:
        summary = run_search(config)
    finally:
        disconnect()
    assert summary.done == 2 and summary.finished == 2 and summary.failed == 0
    store = ResultsStore(out)
    rows = [r for r in store.rows().values() if r.status == "finished"]
    assert len(rows) == 2 and all(r.scorer == "supernet" and r.steps == 0 and r.progress == 1.0 for r in rows)
    assert SearchConfig.from_dict(store.load_config()).supernet == str(tiny_supernet_folder)
    # the trial scored what `nas supernet score` scores, and saved those weights for export
    trained = load_supernet(tiny_supernet_folder)
    scorer = SupernetScorer(trained, tiny_dataset, ScoreConfig(bn_batches=2, val_images=TINY_PROXY.val_images, device="cpu"))
    for row in rows:
        arch = ArchSpec.from_string(row.arch)
        assert scorer(arch).gps_ap == pytest.approx(row.gps_ap, abs=1e-6)
    kept = [r for r in rows if (store.trial_dir(r.trial) / "model.pt").exists()]  # the front's weights are kept
    assert kept
    saved = torch.load(store.trial_dir(kept[0].trial) / "model.pt", weights_only=True)
    build_densepose_rcnn(ArchSpec.from_string(kept[0].arch)).load_state_dict(saved["state_dict"])  # strict: every weight
    log = (store.trial_dir(row.trial) / "log.txt").read_text()
    assert "scored from the supernet" in log and "train " not in log


def test_a_supernet_run_refuses_what_it_cannot_score(tmp_path, tiny_dataset, tiny_table, tiny_supernet_folder) -> None:
    with pytest.raises(SearchError, match="--asha stops trials"):
        tiny_config(tmp_path / "a", tiny_dataset, tiny_table, supernet=str(tiny_supernet_folder), asha=True,
                    proxy=replace(TINY_PROXY, evals=2))
    with pytest.raises(SearchError, match="baseline densemobile cannot be scored from the supernet"):
        run_search(tiny_config(tmp_path / "b", tiny_dataset, tiny_table, supernet=str(tiny_supernet_folder),
                               baselines=("densemobile",)))
    with pytest.raises(SearchError, match="--supernet: supernet folder .* does not exist"):
        run_search(tiny_config(tmp_path / "c", tiny_dataset, tiny_table, supernet=str(tmp_path / "none")))
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()  # nothing written for a refused run


def test_the_model_card_of_a_supernet_scored_candidate_says_so() -> None:
    from nas.export.card import model_card
    from nas.runs.rows import TrialRow
    from nas.train.proxy import DEFAULT_PROXY

    arch = SearchSpace.from_yaml(TINY_SPACE).sample(0)
    row = TrialRow("t0003", 3, "search", "", arch.to_string(), arch.id, "finished", steps=0, progress=1.0, latency_ms=2.0,
                   params=10_000, macs=20_000, gps_ap=31.5, gpsm_ap=33.0, scorer="supernet")
    config = {"out": "/runs/x", "table": "/tables/t", "data": "/data/d", "proxy": DEFAULT_PROXY.to_dict(),
              "supernet": "/supernets/s", "supernet_bn_batches": 8, "supernet_finetune_steps": 20}
    card = model_card(row, config, {"device": "cpu"}, ["model.pt"], on_front=True)
    assert "| GPS AP (supernet) | 31.50 |" in card and "(proxy)" not in card
    assert "scored from the supernet `../../supernets/s`, fine-tuned 20 steps" in card
    assert "the candidate itself was not trained" in card and "short proxy training" not in card
    assert (f"nas supernet score ../../supernets/s '{arch.to_string()}' --data ../../data/d --bn-batches 8 "
            f"--finetune-steps 20 --seed 0 --val-images {DEFAULT_PROXY.val_images}") in card
