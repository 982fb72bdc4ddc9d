"""Zero-cost proxies (nas.train.zero_cost): hand-checked values on tiny networks, the
contract every scorer keeps (deterministic, the model left as it was) and the scores of
real DensePose R-CNNs of the tiny space."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from torch import nn

from nas.data import DensePoseDataset
from nas.errors import NasError
from nas.layers.activations import ACTIVATIONS
from nas.model.rcnn import build_densepose_rcnn
from nas.shipped import TINY_SPACE
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec
from nas.train.zero_cost import (
    JACOB_COV_K,
    PROXIES,
    ZeroCostError,
    grad_norm,
    jacobian_covariance_score,
    log_det_code_kernel,
    naswot,
    score_all,
    scoring_batch,
    synaptic_flow,
    synflow,
)

# two networks of the tiny space, one a widened and deepened copy of the other
SMALL = ("stem_k3_c8_s2_relu+dw_k3_c8_n1_s1_relu+dw_k3_c16_n1_s2_relu+ir_k3_e2_c24_n1_s2_relu+ir_k3_e2_c32_n1_s2_relu"
         "+ir_k3_e2_c32_n1_s1_relu+ir_k3_e2_c48_n1_s2_relu+dw_k3_c64_n1_s1_relu+fpn_c32_l3.5_dw+head_n1_c32_k3_r7_o14_b64+in128x96")
BIG = SMALL.replace("stem_k3_c8", "stem_k3_c16").replace("dw_k3_c16_n1_s2", "dw_k3_c24_n1_s2").replace("ir_k3_e2_c24_n1", "ir_k3_e2_c24_n2")


@pytest.fixture(scope="module")
def batch(tiny_dataset):
    return scoring_batch(tiny_dataset, 4, (128, 96), mask_size=32)


def _model(spec: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_densepose_rcnn(ArchSpec.from_string(spec))


# -- hand-checked values ---------------------------------------------------------------------
def _two_layer(a: float, b: float, c: float, d: float, gamma: float = 1.0) -> nn.Sequential:
    """1 -> 2 -> 1 channels of 1x1 convolutions with a BatchNorm between: first-layer
    weights a, b, BN scale gamma (bias 0), second-layer weights c, d."""
    net = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.BatchNorm2d(2), nn.ReLU(), nn.Conv2d(2, 1, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([a, b]).reshape(2, 1, 1, 1))
        net[1].weight.fill_(gamma)
        net[1].running_mean.fill_(5.0)  # as if trained: synflow must not subtract these
        net[1].running_var.fill_(9.0)
        net[3].weight.copy_(torch.tensor([c, d]).reshape(1, 2, 1, 1))
    return net


def test_synflow_of_a_two_layer_network_is_the_hand_computed_sum() -> None:
    # R = HW * s * |gamma| (|a||c| + |b||d|), s = 1/sqrt(1 + eps); each of a, gamma, c
    # contributes |theta dR/dtheta| = its path's share, so every path counts three times
    a, b, c, d, gamma = -2.0, 3.0, 0.5, -4.0, -1.5
    net = _two_layer(a, b, c, d, gamma)
    hw, s = 6, 1 / math.sqrt(1 + net[1].eps)
    paths = s * abs(gamma) * (abs(a * c) + abs(b * d))
    assert synaptic_flow(net, (1, 1, 2, 3)) == pytest.approx(3 * hw * paths, rel=1e-6)
    # the network itself is untouched: signs, BN statistics, training mode
    assert net[0].weight.flatten().tolist() == [a, b] and net[3].weight.flatten().tolist() == [c, d]
    assert net[1].running_mean.tolist() == [5.0, 5.0] and net.training


def test_synflow_falls_back_to_float64_and_refuses_what_overflows_that() -> None:
    def chain(layers: int, weight: float) -> nn.Sequential:
        net = nn.Sequential(*(nn.Conv2d(1, 1, 1, bias=False) for _ in range(layers)))
        with torch.no_grad():
            for k, conv in enumerate(net):
                conv.weight.fill_(weight if k % 2 else -weight)
        return net

    # R = 4 pixels * 2^200, beyond float32's 2^128; each of the two weights contributes R
    assert synaptic_flow(chain(2, 2.0**100), (1, 1, 2, 2)) == 2.0**203
    with pytest.raises(ZeroCostError, match="overflows float64"):
        synaptic_flow(chain(10, 2.0**120), (1, 1, 2, 2))  # 2^1200


def test_naswot_log_det_of_hand_made_codes() -> None:
    # N_A = 3; the codes differ in 2 bits: K_H = [[3, 1], [1, 3]], det 8
    assert log_det_code_kernel(torch.tensor([[1, 0, 1], [0, 1, 1]])) == pytest.approx(math.log(8))
    # three images, pairwise Hamming distance 2 over N_A = 4: K_H = [[4, 2, 2], [2, 4, 2], [2, 2, 4]], det 32
    assert log_det_code_kernel(torch.tensor([[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1]])) == pytest.approx(math.log(32))
    assert log_det_code_kernel(torch.tensor([[1, 0, 1], [1, 0, 1]])) == -math.inf


def test_jacob_cov_of_uncorrelated_and_of_identical_jacobians() -> None:
    k = JACOB_COV_K
    uncorrelated = torch.tensor([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]])  # correlation matrix I
    assert jacobian_covariance_score(uncorrelated) == pytest.approx(-2 * (math.log(1 + k) + 1 / (1 + k)))
    same = torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])  # correlation 1: eigenvalues 0 and 2
    assert jacobian_covariance_score(same) == pytest.approx(-(math.log(k) + 1 / k + math.log(2 + k) + 1 / (2 + k)), rel=1e-6)
    assert math.isnan(jacobian_covariance_score(torch.tensor([[1.0, 1.0], [1.0, 2.0]])))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_is_active_exactly_where_its_input_is_positive(name: str) -> None:
    """naswot reads a unit's code from its output (> 0), after an in-place activation has
    overwritten its input: for that to be the pre-activation's sign, every activation of
    the space must be positive exactly on positive inputs."""
    x = torch.cat([torch.linspace(-8, 8, 2001), torch.tensor([0.0, 1e-6, -1e-6])])
    out = ACTIVATIONS[name]()(x.clone())
    assert torch.equal(out > 0, x > 0)


# -- the contract of every scorer ---------------------------------------------------------------
def _snapshot(model: nn.Module) -> tuple[dict[str, torch.Tensor], list[bool], list[object], torch.Tensor]:
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return state, [m.training for m in model.modules()], [p.grad for p in model.parameters()], torch.get_rng_state()


@pytest.mark.parametrize("training", [True, False], ids=["train-mode", "eval-mode"])
@pytest.mark.parametrize("name", PROXIES.names())
def test_a_scorer_is_deterministic_and_leaves_the_model_and_rng_as_they_were(name: str, training: bool, batch) -> None:
    model = _model(SMALL).train(training)
    state, modes, grads, rng = _snapshot(model)
    first = PROXIES.get(name)(model, batch, 3)
    assert math.isfinite(first)
    after_state, after_modes, after_grads, after_rng = _snapshot(model)
    assert after_state.keys() == state.keys() and all(torch.equal(after_state[k], v) for k, v in state.items())
    assert after_modes == modes and all(g is None for g in after_grads) and grads == after_grads
    assert torch.equal(after_rng, rng)
    assert PROXIES.get(name)(model, batch, 3) == first


def test_the_seed_draws_the_training_losses_rois(batch) -> None:
    model = _model(SMALL)
    assert grad_norm(model, batch, 0) == grad_norm(model, batch, 0) != grad_norm(model, batch, 1)


def test_a_bigger_network_of_the_same_family_has_more_synaptic_flow(batch) -> None:
    assert synflow(_model(BIG), batch) > 2 * synflow(_model(SMALL), batch)


def test_naswot_of_a_batch_with_a_repeated_image_is_minus_infinity(batch) -> None:
    images, targets = batch
    repeated = (torch.cat([images[:2], images[:1]]), targets[:3])
    model = _model(SMALL)
    assert naswot(model, repeated) == -math.inf
    assert math.isfinite(naswot(model, batch))


def test_scorers_refuse_what_they_cannot_score(batch) -> None:
    model = _model(SMALL)
    with pytest.raises(ZeroCostError, match="needs the training loss: give the DensePoseRCNN"):
        grad_norm(model.features, batch)
    with pytest.raises(ZeroCostError, match="scores a DensePoseRCNN or a FeatureNetwork, got Sequential"):
        synflow(nn.Sequential(nn.Conv2d(3, 3, 1)), batch)
    one_image = (batch[0][:1], batch[1][:1])
    for scorer in (naswot, PROXIES.get("jacob_cov")):
        with pytest.raises(ZeroCostError, match=r"compares the images of a batch: .* B >= 2, got shape \(1, 3, 128, 96\)"):
            scorer(model, one_image)
    with pytest.raises(NasError, match="unknown zero-cost proxy 'synflw'; known zero-cost proxies: synflow, grad_norm"):
        score_all(ArchSpec.from_string(SMALL), batch, proxies=["synflw"])


def test_feature_network_scores_equal_the_full_models_on_normalised_images(batch) -> None:
    model = _model(SMALL)
    normalised = (model.normalise(batch[0]), batch[1])
    assert naswot(model.features, normalised) == naswot(model, batch)
    assert synflow(model.features, batch) == synflow(model, batch)


def test_the_scoring_batch_is_the_first_training_images_unaugmented(tiny_dataset, batch) -> None:
    images, targets = batch
    plain = DensePoseDataset(tiny_dataset / "annotations" / "train.json", tiny_dataset / "images", input_size=(128, 96), train=False)
    with_dp = [i for i, r in enumerate(plain.records) if r.has_dp][:4]
    assert images.shape == (4, 3, 128, 96) and [t["image_id"] for t in targets] == [plain.image_ids[i] for i in with_dp]
    assert all(torch.equal(images[k], plain[i][0]) for k, i in enumerate(with_dp))
    assert torch.equal(scoring_batch(tiny_dataset, 4, (128, 96), mask_size=32)[0], images)
    with pytest.raises(ZeroCostError, match="has 8 training images with DensePose annotations, fewer than the batch of 9"):
        scoring_batch(tiny_dataset, 9, (128, 96))


# -- every proxy on sampled networks ------------------------------------------------------------
def test_score_all_scores_sampled_tiny_networks_in_seconds(batch) -> None:
    space = SearchSpace.from_yaml(TINY_SPACE)
    rng = np.random.default_rng(0)
    for arch in (space.sample(rng), space.sample(rng)):
        start = time.perf_counter()
        scores = score_all(arch, batch, seed=0)
        seconds = time.perf_counter() - start
        assert list(scores) == ["build_s"] + [key for name in PROXIES.names() for key in (name, f"{name}_s")]
        assert all(math.isfinite(v) for v in scores.values())
        assert scores["synflow"] > 0 and scores["grad_norm"] > 0 and scores["snip"] > 0
        assert all(scores[f"{name}_s"] > 0 for name in PROXIES.names())
        assert sum(v for k, v in scores.items() if k.endswith("_s")) <= seconds
        # the same seed builds the same weights and draws the same RoIs
        again = score_all(arch, batch, seed=0, proxies=["grad_norm", "naswot"])
        assert again["grad_norm"] == scores["grad_norm"] and again["naswot"] == scores["naswot"]
