"""Programs to time: op keys and whole models, built once and cached on disk as ``.pte``.

A *program name* is an op key, or ``model:<arch string>`` for a whole feature network
(end-to-end validation). ExecuTorch programs are cached under
``<cache>/<flavour>/<sha256 of the name>.pte`` (flavour: backend, dtype and ExecuTorch
version), so profiling a second device with the same runtime reuses every file; the
building itself runs in worker processes because lowering (~1.5 s an op here) is CPU-bound
Python.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import warnings
from collections.abc import Callable
from collections.abc import Callable as AbcCallable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm import tqdm

from nas.errors import RegistryError
from nas.io import atomic_write_bytes, excerpt
from nas.latency.heads import DENSE_PREFIX, build_dense
from nas.latency.opkinds import BuiltOp, build_op
from nas.latency.quantize import quantize_int8, synthetic_calibration
from nas.latency.toolchain import quiet_toolchain

__all__ = [
    "MODEL_PREFIX",
    "model_program",
    "build_program",
    "lower_program",
    "speed_up_lowering",
    "default_cache_dir",
    "ProgramCache",
    "LOWERINGS",
    "quiet_toolchain",
    "executorch_version",
]

MODEL_PREFIX = "model:"


class _FlatOutputs(nn.Module):
    """A feature network with its dict output flattened to a tuple (sorted by level)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        out = self.net(x)
        return tuple(out[k] for k in sorted(out))


def model_program(arch_string: str) -> str:
    return MODEL_PREFIX + arch_string


def build_program(name: str) -> BuiltOp:
    """The module and inputs a program name stands for: an op key, a whole feature network
    (``model:``, the exported deployable backbone + neck) or the dense deployed network
    with its heads (``dense:``, end-to-end validation)."""
    if name.startswith(MODEL_PREFIX):
        from nas.model.features import FeatureNetwork
        from nas.space.spec import ArchSpec

        arch = ArchSpec.from_string(name[len(MODEL_PREFIX) :])
        h, w = arch.input_size
        return BuiltOp(_FlatOutputs(FeatureNetwork(arch)).eval(), (torch.randn(1, 3, h, w),))
    if name.startswith(DENSE_PREFIX):
        return build_dense(name)
    return build_op(name)


def executorch_version() -> str:
    from importlib.metadata import version

    return version("executorch")


# -- lowering: dtype -> function(module, inputs) -> .pte bytes ----------------------------
def _lower_xnnpack_fp32(module: nn.Module, inputs: tuple[Tensor, ...]) -> bytes:
    with quiet_toolchain():
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.exir import to_edge_transform_and_lower

        with torch.no_grad():
            exported = torch.export.export(module, inputs)
        edge = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()])
        return bytes(edge.to_executorch().buffer)


def _lower_xnnpack_int8(module: nn.Module, inputs: tuple[Tensor, ...]) -> bytes:
    """The PT2E XNNPACK quantizer pass (:mod:`nas.latency.quantize`, calibrated on seeded
    synthetic inputs), then the fp32 lowering of the quantized graph."""
    return _lower_xnnpack_fp32(quantize_int8(module, inputs, synthetic_calibration(inputs)), inputs)


LOWERINGS: dict[str, Callable[[nn.Module, tuple[Tensor, ...]], bytes]] = {"fp32": _lower_xnnpack_fp32, "int8": _lower_xnnpack_int8}


def default_cache_dir() -> Path:
    """``$NAS_CACHE/programs`` or ``~/.cache/nas/programs``."""
    root = os.environ.get("NAS_CACHE")
    return Path(root) / "programs" if root else Path.home() / ".cache" / "nas" / "programs"


def _memoise_cia_op_collection() -> None:
    """Collect torch's CompositeImplicitAutograd op set once per process instead of per export.

    ``run_decompositions`` (called three times per lowering) re-walks every registered op
    namespace each time: ~0.3 s of the ~1.9 s an op costs here. torch cannot cache it in
    general because new custom ops may be registered between exports; a lowering worker
    registers none after its first lowering, so one collection serves all of them.
    """
    import torch._export.utils as export_utils
    import torch.export.decomp_utils as decomp_utils
    import torch.export.exported_program as exported_program

    original = export_utils._collect_all_valid_cia_ops
    if isinstance(original, functools._lru_cache_wrapper):
        return
    cached = functools.lru_cache(maxsize=1)(original)
    for module in (export_utils, exported_program, decomp_utils):
        if getattr(module, "_collect_all_valid_cia_ops", None) is original:
            module._collect_all_valid_cia_ops = cached  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=None)
def _callable_alias(params: object) -> object:
    return AbcCallable[params]  # type: ignore[index]


class _CallableWithCachedSubscripts:
    """Stands in for ``collections.abc.Callable`` inside ``torch._ops``: same ``isinstance``
    answer, but ``Callable[...]`` is built once per distinct subscript instead of at every
    call (see :func:`_cache_py_impl_annotations`)."""

    def __instancecheck__(self, obj: object) -> bool:
        return isinstance(obj, AbcCallable)

    def __getitem__(self, params: object) -> object:
        try:
            return _callable_alias(params)
        except TypeError:  # unhashable subscript ([arg, types], result): build it uncached
            return AbcCallable[params]  # type: ignore[index]


_CACHED_CALLABLE = _CallableWithCachedSubscripts()


def _cache_py_impl_annotations() -> None:
    """Stop ``OperatorBase.py_impl`` from rebuilding typing aliases at every call.

    ``py_impl`` defines an inner function annotated ``Callable[_P, _T]``; without postponed
    annotations Python builds two ``Callable`` generic aliases each time it runs. Every
    ``run_decompositions`` registers and restores python kernels for ~1,400 composite ops
    (``_override_composite_implicit_decomp``), ~6,000 ``py_impl`` calls: about a fifth of an
    op's lowering here went into those throwaway annotations. Annotations do not change
    what is registered, so the programs are byte-identical (tests/latency/test_programs.py).
    """
    import torch._ops as ops

    if getattr(ops, "Callable", None) is AbcCallable:
        ops.Callable = _CACHED_CALLABLE  # type: ignore[attr-defined]


class _ShallowFromNodeCopy:
    """``copy`` as ``torch.fx.traceback`` sees it, with a shallow ``deepcopy``."""

    copy = staticmethod(copy.copy)
    deepcopy = staticmethod(list)


def _share_node_provenance() -> None:
    """Make fx's provenance records (``node.meta["from_node"]``) share their history.

    Each ``NodeSource`` deep-copies the whole ``from_node`` chain of the node it came from,
    and every pass of the lowering adds a link, so copying grows with the number of passes
    (~8% of an op's lowering here). The records are never mutated after creation and do not
    reach the ``.pte``, so sharing them (a shallow list copy) changes nothing in the program.
    """
    import torch.fx.traceback as fx_traceback

    if getattr(fx_traceback, "copy", None) is copy:
        fx_traceback.copy = _ShallowFromNodeCopy  # type: ignore[attr-defined]


def speed_up_lowering() -> None:
    """Process-wide shortcuts for a lowering worker (the build workers call it; a process
    that lowers many programs itself may too); each leaves the programs byte-identical."""
    _memoise_cia_op_collection()
    _cache_py_impl_annotations()
    _share_node_provenance()


def lower_program(name: str, dtype: str = "fp32") -> bytes:
    """The ``.pte`` bytes of a program name, built with seeded weights so that the bytes
    depend on the name (and the toolchain) only."""
    torch.manual_seed(0)
    built = build_program(name)
    return LOWERINGS[dtype](built.module, built.inputs)


def _build_one(name: str, dtype: str, path: str) -> str:
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)  # one lowering per worker process, workers run side by side
    speed_up_lowering()
    atomic_write_bytes(path, lower_program(name, dtype))
    return name


class ProgramCache:
    """ExecuTorch programs on disk, one ``.pte`` per program name.

    Args:
        root: cache folder (default :func:`default_cache_dir`).
        dtype: lowering flavour, a key of :data:`LOWERINGS`.
    """

    def __init__(self, root: str | Path | None = None, dtype: str = "fp32") -> None:
        if dtype not in LOWERINGS:
            raise RegistryError(f"unknown dtype {excerpt(dtype)} for ExecuTorch programs; known: {', '.join(LOWERINGS)}")
        self.dtype = dtype
        self.flavour = f"xnnpack-{dtype}-et{executorch_version()}"
        self.root = Path(root) if root is not None else default_cache_dir()
        self.folder = self.root / self.flavour

    def path(self, name: str) -> Path:
        return self.folder / f"{hashlib.sha256(name.encode()).hexdigest()[:32]}.pte"

    def missing(self, names: list[str]) -> list[str]:
        return [n for n in names if not self.path(n).is_file()]

    def build(self, names: list[str], workers: int = 1, desc: str = "building programs") -> int:
        """Build every missing program (``workers`` processes); returns how many were built."""
        todo = self.missing(list(dict.fromkeys(names)))
        if not todo:
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        bar = tqdm(total=len(todo), desc=desc, unit="prog", dynamic_ncols=True)
        try:
            if workers <= 1:
                for name in todo:
                    _build_one(name, self.dtype, str(self.path(name)))
                    bar.update()
            else:
                # spawn: forked children of a process that already ran torch can deadlock
                with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                    futures = [pool.submit(_build_one, n, self.dtype, str(self.path(n))) for n in todo]
                    for future in as_completed(futures):
                        future.result()
                        bar.update()
        finally:
            bar.close()
        return len(todo)
