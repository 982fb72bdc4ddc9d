"""Shared fixtures of the supernet tests: the tiny space and supernets with random weights
and batch-norm statistics (fresh BN has mean 0 and variance 1, which would hide a wrong
slice of the running statistics; random ones make every slice count)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nas.shipped import TINY_SPACE, shipped
from nas.space.search_space import SearchSpace
from nas.supernet import Supernet


def randomise(module: nn.Module, seed: int = 0) -> nn.Module:
    """Random BN statistics and affine terms, biases and BiFPN fusion weights, in place."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.BatchNorm2d):
                assert sub.running_mean is not None and sub.running_var is not None
                sub.running_mean.copy_(torch.randn(sub.running_mean.shape, generator=gen) * 0.2)
                sub.running_var.copy_(torch.rand(sub.running_var.shape, generator=gen) * 1.5 + 0.5)
        for param in module.parameters():
            if param.ndim == 1:  # biases, BN scales and shifts, fusion weights
                param.copy_(torch.rand(param.shape, generator=gen) + 0.5)
    return module


@pytest.fixture(scope="session")
def tiny_space() -> SearchSpace:
    return SearchSpace.from_yaml(shipped(TINY_SPACE))


@pytest.fixture(scope="session")
def tiny_supernet(tiny_space) -> Supernet:
    torch.manual_seed(0)
    return randomise(Supernet(tiny_space)).eval()  # type: ignore[return-value]


@pytest.fixture(scope="session")
def default_supernet(default_space) -> Supernet:
    torch.manual_seed(1)
    return randomise(Supernet(default_space), seed=1).eval()  # type: ignore[return-value]


@pytest.fixture(autouse=True)
def one_thread():
    """These tests run thousands of tiny convolutions; on a busy small CPU, handing each to a
    thread pool costs ~50 ms where one thread takes 0.1 ms."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
