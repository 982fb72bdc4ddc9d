"""The supernet as a whole: an activated architecture computes what its stand-alone
DensePose R-CNN computes with the extracted weights (features, detections, training
losses and batch-norm updates), extraction round trips, and architectures outside the
space are refused."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from nas.data import DensePoseDataset, collate
from nas.model import FeatureNetwork
from nas.model.rcnn import build_densepose_rcnn
from nas.space.search_space import SearchSpace
from nas.supernet import Supernet, SupernetError
from tests.supernet.conftest import randomise


def _assert_same_detections(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert set(g) == set(w) and len(g["boxes"]) == len(w["boxes"])
        for key in w:
            torch.testing.assert_close(g[key], w[key], rtol=1e-4, atol=1e-4)


def _compare_rcnn(supernet: Supernet, arch, images: torch.Tensor) -> list[dict]:
    """Detections, and DensePose on given boxes, of ``arch`` in the supernet and stand-alone
    with the extracted weights; returns the stand-alone detections."""
    model = build_densepose_rcnn(arch).eval()
    model.load_state_dict(supernet.extract(arch))
    supernet.activate(arch)
    h, w = images.shape[-2:]
    boxes = [torch.tensor([[2.0, 4.0, w * 0.6, h * 0.8], [w * 0.3, h * 0.2, w - 1.0, h - 2.0]])] * len(images)
    with torch.no_grad():
        want = model(images)
        _assert_same_detections(supernet(images), want)
        for got_iuv, want_iuv in zip(supernet.densepose_on_boxes(images, boxes), model.densepose_on_boxes(images, boxes)):
            torch.testing.assert_close(got_iuv, want_iuv)
    return want


def test_sampled_feature_networks_of_the_default_space(default_space, default_supernet) -> None:
    x = torch.randn(2, 3, 64, 64)
    variants = set()
    for seed in range(6, 16):  # ten architectures, every neck variant among them
        arch = default_space.sample(seed)
        variants.add(arch.neck.variant)
        model = FeatureNetwork(arch).eval()
        model.load_state_dict(default_supernet.extract_features(arch))
        default_supernet.activate(arch)
        with torch.no_grad():
            got, want = default_supernet.features(x), model(x)
        assert list(got) == list(want)
        for level in want:
            torch.testing.assert_close(got[level], want[level], rtol=1e-5, atol=1e-5)
    assert variants == {"none", "fpn", "panet", "bifpn"}


@pytest.mark.parametrize("seed", [0, 1])
def test_sampled_densepose_rcnns_of_the_default_space(default_space, default_supernet, seed: int) -> None:
    images = torch.rand(1, 3, 64, 64)
    want = _compare_rcnn(default_supernet, default_space.sample(seed), images)
    assert sum(len(d["boxes"]) for d in want) > 0  # random heads still detect: the comparison means something


def test_sampled_densepose_rcnns_of_the_tiny_space(tiny_space, tiny_supernet) -> None:
    images = torch.rand(2, 3, 128, 96)
    necks = set()
    for seed in range(6):
        arch = tiny_space.sample(seed)
        necks.add(arch.neck.variant)
        _compare_rcnn(tiny_supernet, arch, images)
    assert necks == {"none", "fpn"}


def test_training_losses_and_batch_norm_updates_match(tiny_space, tiny_dataset) -> None:
    ds = DensePoseDataset(tiny_dataset / "annotations" / "train.json", tiny_dataset / "images", input_size=(128, 96), train=True, mask_size=32)
    images, targets = collate([ds[i] for i in range(2)])
    torch.manual_seed(0)
    supernet = randomise(Supernet(tiny_space)).train()
    arch = tiny_space.sample(3)
    model = build_densepose_rcnn(arch).train()
    model.load_state_dict(supernet.extract(arch))
    torch.manual_seed(5)
    got = supernet.activate(arch)(images, targets)
    torch.manual_seed(5)
    want = model(images, targets)
    assert set(got) == set(want)
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-4, atol=1e-5)
    updated, trained = supernet.extract(arch), model.state_dict()
    stats = [k for k in trained if k.endswith("running_mean")]
    assert stats
    for key in stats:  # the supernet's slices moved exactly as the model's own statistics
        torch.testing.assert_close(updated[key], trained[key])
    # the gradients land on the sub-network's slices, as the model's own, and nowhere else
    sum(got.values()).backward()
    sum(want.values()).backward()
    as_weights = copy.deepcopy(supernet)
    with torch.no_grad():
        for slot, param in zip(as_weights.parameters(), supernet.parameters()):
            slot.copy_(torch.zeros_like(param) if param.grad is None else param.grad)
    grads = as_weights.extract(arch)
    for name, param in model.named_parameters():
        torch.testing.assert_close(grads[name], param.grad, rtol=1e-4, atol=1e-6)
    total = sum(float(p.grad.abs().sum()) for p in supernet.parameters() if p.grad is not None)
    assert total == pytest.approx(sum(float(p.grad.abs().sum()) for p in model.parameters()), rel=1e-4)


def test_extraction_round_trip(tiny_space, tiny_supernet) -> None:
    arch = tiny_space.sample(4)
    state = tiny_supernet.extract(arch)
    model = build_densepose_rcnn(arch)
    model.load_state_dict(state, strict=True)
    loaded = model.state_dict()
    assert list(loaded) == list(state) or set(loaded) == set(state)
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    # extracted tensors are copies: changing the supernet afterwards leaves them be
    first = next(k for k in state if k.endswith(".weight"))
    before = state[first].clone()
    supernet = randomise(Supernet(tiny_space))
    copied = supernet.extract(arch)
    with torch.no_grad():
        for p in supernet.parameters():
            p.add_(1.0)
    assert not torch.equal(supernet.extract(arch)[first], copied[first])
    assert torch.equal(state[first], before)


def test_an_architecture_outside_the_space_is_refused(default_space, tiny_space, tiny_supernet) -> None:
    with pytest.raises(SupernetError) as caught:
        tiny_supernet.activate(default_space.sample(0))
    message = str(caught.value)
    assert "outside the search space 'tiny'" in message and "\n" not in message
    arch = tiny_space.sample(0)
    wider = dataclasses.replace(arch, stages=(*arch.stages[:1], dataclasses.replace(arch.stages[1], channels=40), *arch.stages[2:]))
    with pytest.raises(SupernetError, match=r"s1.width is 40, the space offers 16, 24"):
        tiny_supernet.extract(wider)
    other_head = dataclasses.replace(arch, head=dataclasses.replace(arch.head, convs=2))
    with pytest.raises(SupernetError, match="head.convs is 2, the space offers only 1"):
        tiny_supernet.activate(other_head)
    # the deploy size is no setting of the weights: another one is accepted
    tiny_supernet.activate(dataclasses.replace(arch, input_size=(64, 64)))


def test_running_before_activating_is_refused(tiny_space) -> None:
    with pytest.raises(SupernetError, match="call activate"):
        Supernet(tiny_space).eval()(torch.rand(1, 3, 64, 64))


def test_head_settings_a_space_searches_are_elastic(tiny_space) -> None:
    head = {"convs": [1, 2], "channels": [16, 32], "kernel": [1, 3], "pool": [7], "out": [14, 28], "box_dim": [32, 64]}
    space = SearchSpace.from_dict({**tiny_space.source, "head": head})
    torch.manual_seed(0)
    supernet = randomise(Supernet(space)).eval()
    images = torch.rand(1, 3, 96, 64)
    heads = set()
    for seed in range(8):
        arch = space.sample(seed)
        heads.add(arch.head)
        _compare_rcnn(supernet, arch, images)
    assert len(heads) >= 6 and {h.convs for h in heads} == {1, 2} and {h.kernel for h in heads} == {1, 3}


def test_the_supernet_state_dict_restores_every_sub_network(tiny_space, tiny_supernet) -> None:
    restored = Supernet(tiny_space)
    restored.load_state_dict(tiny_supernet.state_dict(), strict=True)
    for seed in range(3):
        arch = tiny_space.sample(seed)
        want = tiny_supernet.extract(arch)
        assert all(torch.equal(value, want[name]) for name, value in restored.extract(arch).items())
    # a fresh supernet differs, so the comparison above means something
    assert not torch.equal(Supernet(tiny_space).extract(arch)["box_head.fc1.weight"], want["box_head.fc1.weight"])
