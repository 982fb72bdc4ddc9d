"""Zero-cost proxies: scores of an untrained DensePose R-CNN from one batch, no training.

Each scorer of :data:`PROXIES` is called as ``scorer(model, batch, seed) -> float`` with a
:class:`~nas.model.rcnn.DensePoseRCNN` (or, for the scorers that need no loss, its
:class:`~nas.model.features.FeatureNetwork`), a batch ``(images, targets)`` as
:func:`nas.data.collate` gives it (images ``(B, 3, H, W)`` in [0, 1]) and a seed for the
randomness the training loss draws (RoI sampling). Every scorer works on a deep copy of
the model, so the caller's weights, buffers (BatchNorm statistics), gradients and
train/eval mode are left exactly as they were, and inside a forked torch RNG, so the
caller's random stream is not advanced either.

The proxies (higher is "better" for each, as their papers rank):

* ``synflow`` (Tanaka et al. 2020; as a NAS proxy, Abdelfattah et al. 2021): on the
  feature network (backbone + neck), every parameter replaced by its absolute value,
  BatchNorm in eval mode with its running statistics set to mean 0, variance 1 (so each
  BatchNorm is the positive affine map ``|gamma| x / sqrt(1 + eps) + |beta|``: it must not
  normalise by batch statistics, which would cancel the weights' scale the score
  measures, and a trained model's running means would turn signs), an all-ones input of
  the batch's image size (batch 1: the score does not depend on the data), and
  ``R = sum of every pyramid level's outputs``. Score ``sum_theta |theta * dR/dtheta|``.
  Why the pyramid and not the whole model: the heads run on RoIs chosen by the RPN and
  NMS, which are not a differentiable function of an all-ones image; and the heads'
  settings are fixed by the space (only their input channels follow the neck), the
  pyramid is what it searches. Computed in float32, again
  in float64 where float32 overflows (~3e38: R grows as the product of the layers'
  absolute weights; the default space's networks at 256x192 score ~1e15 to ~2e34, and
  float64 takes several times float32's time on a CPU). A score that overflows even
  float64 is a :class:`ZeroCostError`.
* ``grad_norm`` (Abdelfattah et al. 2021): the sum over parameter tensors of the L2 norm
  of the gradient of the training loss (the sum of the model's weighted losses, as
  :func:`nas.train.loop.train_step` minimises) on the batch, model in training mode.
* ``snip`` (Lee et al. 2019, as summed by Abdelfattah et al. 2021): ``sum_theta |theta *
  dL/dtheta|`` for the same loss and gradient as ``grad_norm``.
* ``naswot`` (Mellor et al. 2021): ``log det K_H`` with ``K_H[i, j] = N_A - Hamming(c_i,
  c_j)``, ``c_i`` the binary code of image ``i``: one bit per unit of every activation
  module of the backbone (stem, blocks and their squeeze-excite), 1 where the unit is
  active. Only the backbone counts: the neck's fusions use functional activations and
  the heads' units depend on how many RoIs the RPN proposes. A unit is active where the
  activation's output is > 0; for every activation the space offers (ReLU, ReLU6,
  hard-swish, swish) that is exactly where its input is > 0, the sign of the
  pre-activation the paper's ReLU code takes, and it can be read after an in-place
  activation has overwritten its input. BatchNorm uses the batch's statistics (training
  mode, as the paper's untrained networks see their data): an untrained network's running
  statistics are 0 and 1, which would make every BatchNorm the identity. ``-inf`` when
  two images have the same code (``K_H`` singular), e.g. two identical images. Mellor et
  al. use 128 images; the score grows with the batch, so compare candidates on one batch.
* ``jacob_cov`` (Mellor et al. 2020, the first version of NASWOT, as defined there):
  ``J_i = d(sum of image i's pyramid outputs) / d(normalised image i)``; ``sigma`` the correlation
  matrix of the ``J_i`` over the batch; score ``-sum_k (log(lambda_k + 1e-5) + 1 /
  (lambda_k + 1e-5))`` over ``sigma``'s eigenvalues. BatchNorm in eval mode, so that image
  ``i``'s outputs depend on image ``i`` alone and one backward pass gives every ``J_i``.
  NaN when a ``J_i`` is constant. ``naswot`` and ``jacob_cov`` need two images at least.

:func:`score_all` builds an architecture's model and runs every scorer, timing each;
:func:`scoring_batch` reads the fixed batch candidates are compared on.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from nas.data import DensePoseDataset, Resize, collate
from nas.data.source import DatasetSource
from nas.errors import NasError
from nas.layers.activations import ACTIVATIONS
from nas.model.features import FeatureNetwork
from nas.model.rcnn import DensePoseRCNN
from nas.registry import Registry, callable_with
from nas.space.spec import ArchSpec
from nas.train.config import TrainConfig
from nas.train.session import build_training_model

__all__ = ["PROXIES", "ZeroCostError", "grad_norm", "jacob_cov", "jacobian_covariance_score", "log_det_code_kernel", "naswot", "score_all", "scoring_batch", "snip", "synaptic_flow", "synflow"]

Batch = tuple[Tensor, Sequence[dict[str, Any]]]
Scorer = Callable[[nn.Module, Batch, int], float]

JACOB_COV_K = 1e-5  # Mellor et al. 2020's offset of the correlation eigenvalues


class ZeroCostError(NasError, ValueError):
    """A zero-cost proxy that cannot be computed for this model or batch."""


PROXIES: Registry[Scorer] = Registry("zero-cost proxy", callable_with("model", "batch", "seed"), plural="zero-cost proxies")

# the activation module types of the space (nas.layers.activations); naswot's codes read their outputs
_ACTIVATION_TYPES = tuple({type(factory()) for factory in ACTIVATIONS.values()})


# -- shared plumbing ------------------------------------------------------------------------
def _features_of(model: nn.Module) -> FeatureNetwork:
    if isinstance(model, DensePoseRCNN):
        return model.features
    if isinstance(model, FeatureNetwork):
        return model
    raise ZeroCostError(f"a zero-cost proxy scores a DensePoseRCNN or a FeatureNetwork, got {type(model).__name__}")


def _feature_input(model: nn.Module, images: Tensor) -> Tensor:
    """What the feature network takes: a DensePoseRCNN's normalised images, a bare
    FeatureNetwork's images as given."""
    images = images.to(_device(model))
    return model.normalise(images) if isinstance(model, DensePoseRCNN) else images


@contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    """torch's RNG seeded with ``seed`` inside, the caller's stream restored after."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _output_sum(outputs: Tensor | dict[str, Tensor]) -> Tensor:
    """Sum of a tensor, or of every pyramid level's outputs."""
    if isinstance(outputs, Tensor):
        return outputs.sum()
    return sum(level.sum() for level in outputs.values())  # type: ignore[return-value]


def _several_images(batch: Batch, proxy: str) -> Tensor:
    """The batch's images; a proxy that compares images needs two at least."""
    images = batch[0]
    if images.dim() != 4 or len(images) < 2:
        raise ZeroCostError(f"{proxy} compares the images of a batch: give (B, 3, H, W) images with B >= 2, got shape {tuple(images.shape)}")
    return images


def _batch_norms(module: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


# -- synflow -----------------------------------------------------------------------------------
@PROXIES.decorator("synflow")
def synflow(model: nn.Module, batch: Batch, seed: int = 0) -> float:
    """Synaptic flow of the feature network (see the module docstring for the choices).

    ``seed`` is accepted for the common signature: the score uses no randomness."""
    return synaptic_flow(_features_of(model), (1, 3, *batch[0].shape[-2:]))


def synaptic_flow(net: nn.Module, input_shape: tuple[int, ...]) -> float:
    """``sum_theta |theta * dR/dtheta|`` of a copy of ``net`` with absolute parameters and
    BatchNorm as a positive affine map (eval mode, running statistics 0 and 1), ``R`` the
    sum of its output (a tensor, or a dict of them) on an all-ones input of
    ``input_shape``. float32, float64 where float32 overflows; ``net`` is not touched.

    Raises:
        ZeroCostError: the score overflows float64 too.
    """
    score = _synaptic_flow(net, input_shape, torch.float32)
    if not math.isfinite(score):
        score = _synaptic_flow(net, input_shape, torch.float64)
    if not math.isfinite(score):
        raise ZeroCostError(f"synflow overflows float64 for this network ({score}); it is too deep or its weights too large for this proxy")
    return score


def _synaptic_flow(net: nn.Module, input_shape: tuple[int, ...], dtype: torch.dtype) -> float:
    net = copy.deepcopy(net).to(dtype).eval()
    with torch.no_grad():
        for bn in _batch_norms(net):
            if bn.running_mean is not None and bn.running_var is not None:
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0)
        for p in net.parameters():
            p.abs_()
    ones = torch.ones(input_shape, dtype=dtype, device=_device(net))
    with torch.enable_grad():
        net.zero_grad(set_to_none=True)
        _output_sum(net(ones)).backward()
    return sum(float((p.detach() * p.grad).abs().sum()) for p in net.parameters() if p.grad is not None)


# -- the training loss's gradient: grad_norm and snip ----------------------------------------
def _loss_gradients(model: nn.Module, batch: Batch, seed: int) -> list[tuple[Tensor, Tensor]]:
    """``(parameter, gradient)`` pairs of the training loss on ``batch``, computed on a
    copy of ``model`` in training mode (parameters without a gradient left out)."""
    if not isinstance(model, DensePoseRCNN):
        raise ZeroCostError(f"this proxy needs the training loss: give the DensePoseRCNN, not a {type(model).__name__}")
    images, targets = batch
    net = copy.deepcopy(model).train()
    device = _device(net)
    with _seeded(seed, device), torch.enable_grad():
        net.zero_grad(set_to_none=True)
        losses = net(images.to(device), targets)
        sum(losses.values()).backward()  # type: ignore[union-attr]
    return [(p.detach(), p.grad) for p in net.parameters() if p.grad is not None]


@PROXIES.decorator("grad_norm")
def grad_norm(model: nn.Module, batch: Batch, seed: int = 0) -> float:
    """Sum over parameter tensors of the L2 norm of the training loss's gradient."""
    return sum(float(g.norm()) for _, g in _loss_gradients(model, batch, seed))


@PROXIES.decorator("snip")
def snip(model: nn.Module, batch: Batch, seed: int = 0) -> float:
    """Connection sensitivity ``sum |theta * dL/dtheta|`` of the training loss."""
    return sum(float((p * g).abs().sum()) for p, g in _loss_gradients(model, batch, seed))


# -- naswot ------------------------------------------------------------------------------------
def log_det_code_kernel(codes: Tensor) -> float:
    """``log det K_H`` of binary codes ``(B, N_A)`` (one row per image, 0/1):
    ``K_H = C C^T + (1 - C)(1 - C)^T``, i.e. ``N_A`` minus the Hamming distances.
    ``-inf`` when ``K_H`` is singular (two images with the same code)."""
    return _log_det(_code_kernel(codes.bool()))


def _code_kernel(active: Tensor) -> Tensor:
    """``K_H`` (float64) of ``(B, N)`` booleans: ``N - s_i - s_j + 2 (C C^T)_ij`` with ``s``
    the rows' counts of ones, one matrix product instead of two."""
    # 0/1 products summed in float32 are exact integers while every sum is below 2^24
    dtype = torch.float32 if active.shape[1] < 2**24 else torch.float64
    c = active.to(dtype)
    ones = c.sum(1)
    kernel = active.shape[1] - ones[:, None] - ones[None, :] + 2 * (c @ c.T)
    return kernel.to(torch.float64)


def _log_det(kernel: Tensor) -> float:
    kernel = kernel.to(torch.float64).cpu()
    # K_H is a sum of Gram matrices (positive semi-definite). Two equal codes make it singular,
    # but its determinant comes out of a factorisation as a small positive number, not 0
    # (rounding on entries ~1e6), so singularity is decided by rank, as numpy does it
    if int(torch.linalg.matrix_rank(kernel, hermitian=True)) < len(kernel):
        return -math.inf
    return float(torch.linalg.slogdet(kernel)[1])


@PROXIES.decorator("naswot")
def naswot(model: nn.Module, batch: Batch, seed: int = 0) -> float:
    """``log det K_H`` of the backbone's activation codes over the batch (see the module
    docstring for which units count)."""
    net = copy.deepcopy(_features_of(model)).train()
    units = [m for m in net.backbone.modules() if isinstance(m, _ACTIVATION_TYPES)]
    if not units:
        raise ZeroCostError("naswot found no activation module in the backbone; the space's activations are " + ", ".join(ACTIVATIONS))
    images = _several_images(batch, "naswot")
    kernel = torch.zeros((len(images), len(images)), dtype=torch.float64)

    def add_codes(_module: nn.Module, _inputs: Any, output: Tensor) -> None:
        # units in memory order (a view, no copy): K_H does not depend on the units' order
        out = output.detach()
        if out.dim() == 4 and out.is_contiguous(memory_format=torch.channels_last):
            out = out.permute(0, 2, 3, 1)
        kernel.add_(_code_kernel(out.reshape(len(out), -1) > 0).cpu())

    hooks = [m.register_forward_hook(add_codes) for m in units]
    try:
        with _seeded(seed, _device(net)), torch.no_grad():
            net(_feature_input(model, images))
    finally:
        for hook in hooks:
            hook.remove()
    return _log_det(kernel)


# -- jacob_cov ---------------------------------------------------------------------------------
def jacobian_covariance_score(jacobians: Tensor) -> float:
    """Mellor et al. 2020's score of per-image input Jacobians ``(B, D)``: minus the sum
    over the eigenvalues of their correlation matrix of ``log(l + k) + 1 / (l + k)``.
    NaN when a Jacobian is constant (its correlation is undefined)."""
    corr = torch.corrcoef(jacobians.to(torch.float64).cpu())
    if not bool(torch.isfinite(corr).all()):
        return math.nan
    eig = torch.linalg.eigvalsh(corr)
    return float(-(torch.log(eig + JACOB_COV_K) + 1.0 / (eig + JACOB_COV_K)).sum())


@PROXIES.decorator("jacob_cov")
def jacob_cov(model: nn.Module, batch: Batch, seed: int = 0) -> float:
    """Correlation of the pyramid's input Jacobians over the batch (see the module docstring)."""
    net = copy.deepcopy(_features_of(model)).eval()
    x = _feature_input(model, _several_images(batch, "jacob_cov")).detach().clone().requires_grad_(True)
    with _seeded(seed, _device(net)), torch.enable_grad():
        _output_sum(net(x)).backward()
    return jacobian_covariance_score(x.grad.flatten(1))  # type: ignore[union-attr]


# -- every proxy for an architecture -----------------------------------------------------------
def scoring_batch(data: str | Path | DatasetSource, size: int = 4, input_size: tuple[int, int] | None = None,
                  mask_size: int | None = None) -> Batch:
    """The first ``size`` training images with DensePose annotations of ``data`` (a dataset
    folder or descriptor), fitted into ``input_size`` and not augmented, so that every
    candidate is scored on the same pixels. ``input_size`` and ``mask_size`` default to
    the proxy training's (:class:`~nas.train.config.TrainConfig`).

    Raises:
        ZeroCostError: the training split has fewer than ``size`` such images.
    """
    defaults = TrainConfig()
    source = data if isinstance(data, DatasetSource) else DatasetSource.load(data)
    dataset = DensePoseDataset(source.train.annotations, source.train.images, train=True,
                               transforms=[Resize(input_size or defaults.input_size)], mask_size=mask_size or defaults.mask_size)
    if len(dataset) < size:
        raise ZeroCostError(f"{source.train.annotations} has {len(dataset)} training images with DensePose annotations, "
                            f"fewer than the batch of {size} asked for; ask for a smaller batch")
    return collate([dataset[i] for i in range(size)])


def score_all(arch: ArchSpec, batch: Batch, seed: int = 0, proxies: Sequence[str] | None = None,
              device: str | torch.device = "cpu") -> dict[str, float]:
    """Build ``arch``'s DensePose R-CNN with weights initialised from ``seed`` and score it
    by every proxy of :data:`PROXIES` (or those named in ``proxies``).

    Returns:
        ``{name: score}`` and ``{name + "_s": seconds it took}`` per proxy, plus
        ``build_s`` (building the model). The model is channels-last, as training builds it.
    """
    chosen = [(name, PROXIES.get(name)) for name in (proxies if proxies is not None else PROXIES.names())]
    device = torch.device(device)
    start = time.perf_counter()
    with _seeded(seed, device):
        model = build_training_model(arch, device)
    out: dict[str, float] = {"build_s": time.perf_counter() - start}
    for name, scorer in chosen:
        start = time.perf_counter()
        out[name] = scorer(model, batch, seed)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        out[f"{name}_s"] = time.perf_counter() - start
    return out
