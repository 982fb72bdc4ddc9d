"""Fitted rows: the latency of ops a table has not measured, predicted from the ones it has.

Profiling every op of a space cold costs hours on a small machine (lowering each op
through torch.export and XNNPACK dominates). ``nas profile --fill`` measures a designed
share of the ops (:func:`fill_design`) and predicts the rest with one cost model per op
kind, fitted on that kind's measured rows (:func:`fit_rows`), as nn-Meter does with its
kernel predictors, but with a model simple enough to read: latency is a non-negative
combination of what the op does, recorded by running it once (:func:`op_features`):

* per convolution class (pointwise, depthwise k x k, full k x k, each k x k by stride,
  grouped): its multiply-adds split by working set (input + output + weights, fp32: up
  to 512 KiB, 2 MiB, 8 MiB, 32 MiB, more: the cache level it streams from; on an AVX-512
  EPYC a 7x7 depthwise stage costs 0.8 ns a multiply-add at 9 MB, 2 ns at 38 MB), its
  input and output elements,
  and for pointwise convolutions the multiply-adds split by input channels (few input
  channels leave the GEMM micro-kernels memory-bound);
* the elements every element-wise op, reduction, pooling window, resize and
  concatenation touches; matrix-product multiply-adds; the number of ops (dispatch cost).

Weights are fitted by least squares on errors relative to the square root of each
latency (between absolute and relative errors: the large ops dominate an architecture's
sum, the small ones are many). Fitted rows live in ``fitted.csv`` beside ``table.csv``;
a measured row always wins, and ``nas profile`` without ``--fill`` measures them.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from tqdm import tqdm

from nas.latency.opkinds import key_kind

__all__ = ["FEATURES_VERSION", "op_features", "features_of", "fitted_kinds", "fill_design", "fit_rows", "FillFit", "FILL_SHARE", "FILL_COVER", "WHOLE_KIND_OPS"]

FEATURES_VERSION = 2  # bump when op_features changes: meta.json records which one fitted
FILL_SHARE = 0.08  # share of a fitted kind's ops measured at random, besides the coverage
FILL_COVER = 5  # measured ops that must show each cost feature of a kind (or all that do)
WHOLE_KIND_OPS = 150  # kinds with at most this many ops are measured whole (heads, stems, necks)
MIN_FIT_ROWS = 8  # a kind needs this many measured rows before its other ops are fitted
_FOLDS = 5

_WORKING_SET_BYTES = ((512 * 1024, "512k"), (2 * 1024**2, "2m"), (8 * 1024**2, "8m"), (32 * 1024**2, "32m"))
_PW_INPUT_CHANNELS = ((24, "c24"), (96, "c96"))
_ELEMENTWISE = {
    "add": "binary", "sub": "binary", "mul": "binary", "div": "binary",
    "relu": "clamp", "hardtanh": "clamp", "clamp": "clamp", "clamp_min": "clamp", "clamp_max": "clamp",
    "hardswish": "nonlinear", "hardsigmoid": "nonlinear", "sigmoid": "nonlinear", "silu": "nonlinear", "tanh": "nonlinear",
    "mean": "reduce", "sum": "reduce", "adaptive_avg_pool2d": "reduce", "_adaptive_avg_pool2d": "reduce",
    "cat": "concat", "stack": "concat", "constant_pad_nd": "concat",
}
_POOLS = ("max_pool2d", "max_pool2d_with_indices", "avg_pool2d")
_MATMULS = ("addmm", "mm", "bmm", "matmul")  # linear reaches dispatch as addmm
# metadata, allocation and batch norm (folded into the preceding convolution when deployed)
_FREE = {
    "view", "_unsafe_view", "reshape", "t", "permute", "expand", "detach", "alias", "slice", "select", "unsqueeze",
    "squeeze", "split", "split_with_sizes", "unbind", "transpose", "flatten", "empty", "empty_like", "zeros",
    "zeros_like", "ones", "ones_like", "full", "lift_fresh", "_to_copy", "copy_", "clone", "contiguous",
    "_native_batch_norm_legit_no_training", "native_batch_norm", "batch_norm", "dropout", "as_strided",
}


def _bucket(value: float, edges: tuple[tuple[float, str], ...], last: str) -> str:
    return next((name for edge, name in edges if value <= edge), last)


class _CostRecorder(TorchDispatchMode):
    """Adds up the cost features of every aten op run under it."""

    def __init__(self) -> None:
        super().__init__()
        self.features: Counter[str] = Counter()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__.rstrip("_")
        first = out[0] if isinstance(out, (tuple, list)) else out
        elems = first.numel() if isinstance(first, torch.Tensor) else 0
        f = self.features
        if name == "convolution":
            self._convolution(args[0], args[1], int(args[3][-1]), int(args[8]), first)
        elif name in _MATMULS:
            f["matmul:macs"] += elems * args[-1].shape[-2]  # (..., k, n): k multiply-adds per output
            f["ops"] += 1
        elif name in _ELEMENTWISE:
            f[f"{_ELEMENTWISE[name]}:elems"] += args[0].numel() if _ELEMENTWISE[name] == "reduce" else elems
            f["ops"] += 1
        elif name in _POOLS:
            window = args[1] if len(args) > 1 else (1, 1)
            f["pool:elems"] += elems * int(np.prod(window))
            f["ops"] += 1
        elif name.startswith("upsample") or name.startswith("_upsample"):
            f["resize:elems"] += elems
            f["ops"] += 1
        elif name not in _FREE and isinstance(first, torch.Tensor):
            f["other:elems"] += elems
            f["ops"] += 1
        return out

    def _convolution(self, x: torch.Tensor, weight: torch.Tensor, stride: int, groups: int, out: torch.Tensor) -> None:
        cin, cout, k = x.shape[1], weight.shape[0], weight.shape[-1]
        per_group = cin // groups
        if groups == 1:
            cls = "pw" if weight.shape[-2:] == (1, 1) else f"full{k}s{stride}"
        elif groups == cin == cout:
            cls = f"dw{k}s{stride}"  # strided depthwise reads its input sparsely: its own cost
        else:
            cls = "grouped"
        macs = out.numel() * per_group * weight.shape[-2] * weight.shape[-1]
        working_set = 4 * (x.numel() + out.numel() + weight.numel())
        f = self.features
        f[f"{cls}:macs@{_bucket(working_set, _WORKING_SET_BYTES, 'big')}"] += macs
        f[f"{cls}:in"] += x.numel()
        f[f"{cls}:out"] += out.numel()
        if cls == "pw":
            f[f"pw:macs@{_bucket(per_group, _PW_INPUT_CHANNELS, 'cmore')}"] += macs
        f["ops"] += 1


def op_features(key: str) -> dict[str, float]:
    """Cost features of the op ``key`` stands for (see the module doc), from one run."""
    from nas.latency.programs import build_program

    torch.manual_seed(0)
    built = build_program(key)
    recorder = _CostRecorder()
    with torch.no_grad(), recorder:
        built.module(*built.inputs)
    return {name: float(v) for name, v in recorder.features.items() if v}


def features_of(keys: Iterable[str], progress: bool = True) -> dict[str, dict[str, float]]:
    """:func:`op_features` of every key (one thread: a second of work per hundred ops)."""
    keys = list(dict.fromkeys(keys))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {k: op_features(k) for k in tqdm(keys, desc="reading op costs", unit="op", dynamic_ncols=True, disable=not progress)}
    finally:
        torch.set_num_threads(threads)


def fitted_kinds(keys: Iterable[str], whole_kind_ops: int = WHOLE_KIND_OPS) -> set[str]:
    """Kinds with more than ``whole_kind_ops`` ops among ``keys``: the ones --fill fits."""
    counts = Counter(key_kind(k) for k in dict.fromkeys(keys))
    return {kind for kind, n in counts.items() if n > whole_kind_ops}


def fill_design(
    keys: list[str],
    features: Mapping[str, Mapping[str, float]],
    share: float = FILL_SHARE,
    cover: int = FILL_COVER,
    whole_kind_ops: int = WHOLE_KIND_OPS,
    seed: int = 0,
) -> list[str]:
    """The ops ``--fill`` measures, in ``keys`` order: every op of a kind with at most
    ``whole_kind_ops`` ops; of the larger kinds (whose ``features`` are given) a seeded
    random ``share``, then more until each cost feature of the kind shows in at least
    ``cover`` measured ops (or in all of the kind's ops that have it), so that no weight of
    a kind's model is fitted blind."""
    keys = list(dict.fromkeys(keys))
    fitted = fitted_kinds(keys, whole_kind_ops)
    rng = random.Random(seed)
    chosen = {k for k in keys if key_kind(k) not in fitted or rng.random() < share}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for k in keys:
        if key_kind(k) in fitted:
            by_kind[key_kind(k)].append(k)
    for kind in sorted(by_kind):
        members = by_kind[kind]
        for feature in sorted({f for k in members for f in features[k]}):
            having = [k for k in members if features[k].get(feature)]
            short = cover - sum(k in chosen for k in having)
            if short > 0:
                rest = [k for k in having if k not in chosen]
                chosen.update(rng.sample(rest, min(short, len(rest))))
    return [k for k in keys if k in chosen]


@dataclass(frozen=True)
class FillFit:
    """Fitted rows and how well each kind's model did on its own measured rows.

    Attributes:
        rows: key -> predicted median ms, for the keys asked for that could be fitted.
        kinds: per fitted kind: measured rows used, rows fitted, and the cross-validated
            (5-fold, on the measured rows) median and 90th-percentile relative error.
        unfitted: keys asked for whose kind has too few measured rows (left missing).
    """

    rows: dict[str, float]
    kinds: dict[str, dict[str, Any]]
    unfitted: list[str]

    def summary(self) -> dict[str, Any]:
        """What meta.json keeps under ``fill``."""
        return {"features_version": FEATURES_VERSION, "rows": len(self.rows), "kinds": self.kinds,
                "model": "per kind: non-negative least squares on op cost features (nas.latency.fill)"}


def _solve(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative weights minimising sum((x @ w - y)^2 / y)."""
    from scipy.optimize import nnls

    scale = np.maximum(np.abs(x).max(axis=0), 1e-12)  # unit columns: nnls converges on them
    weight = 1.0 / np.sqrt(y)
    coef, _ = nnls((x / scale) * weight[:, None], y * weight, maxiter=50 * x.shape[1])
    return coef / scale


def _matrix(keys: list[str], features: Mapping[str, Mapping[str, float]], names: list[str]) -> np.ndarray:
    return np.array([[1.0, *(features[k].get(n, 0.0) for n in names)] for k in keys])


def fit_rows(measured: Mapping[str, float], wanted: Iterable[str], features: Mapping[str, Mapping[str, float]], seed: int = 0) -> FillFit:
    """Fit each kind's model on its ``measured`` rows (key -> median ms, with features)
    and predict the ``wanted`` keys of that kind."""
    wanted = [k for k in dict.fromkeys(wanted) if k not in measured]
    by_kind: dict[str, list[str]] = defaultdict(list)
    for k in wanted:
        by_kind[key_kind(k)].append(k)
    rows: dict[str, float] = {}
    kinds: dict[str, dict[str, Any]] = {}
    unfitted: list[str] = []
    for kind, targets in sorted(by_kind.items()):
        train = [k for k in measured if key_kind(k) == kind and k in features]
        if len(train) < MIN_FIT_ROWS:
            unfitted.extend(targets)
            continue
        names = sorted({f for k in train for f in features[k]})
        x, y = _matrix(train, features, names), np.array([measured[k] for k in train])
        coef = _solve(x, y)
        predicted = _matrix(targets, features, names) @ coef
        floor = 0.5 * float(y.min())  # an op's cost never falls far below the kind's cheapest measured
        rows.update({k: max(float(p), floor) for k, p in zip(targets, predicted)})
        errors = _cross_validated_errors(x, y, seed)
        kinds[kind] = {"measured": len(train), "fitted": len(targets),
                       "cv_median_error": round(statistics.median(errors), 4), "cv_p90_error": round(float(np.percentile(errors, 90)), 4)}
    return FillFit(rows, kinds, unfitted)


def _cross_validated_errors(x: np.ndarray, y: np.ndarray, seed: int) -> list[float]:
    """|predicted / measured - 1| of every measured row, predicted by the model fitted on
    the other folds."""
    order = list(range(len(y)))
    random.Random(seed).shuffle(order)
    errors: list[float] = []
    for fold in range(_FOLDS):
        test = order[fold::_FOLDS]
        held = set(test)
        train = [i for i in order if i not in held]
        coef = _solve(x[train], y[train])
        errors.extend(abs(float(x[i] @ coef) / y[i] - 1.0) for i in test)
    return errors
