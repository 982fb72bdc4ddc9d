"""Read pickled numpy arrays without executing arbitrary code.

DensePose's ``Pdist_matrix.pkl`` is a pickled ``{"Pdist_matrix": ndarray}`` (written by
Python 2). Plain ``pickle.load`` would run whatever callable the file names; this
unpickler resolves only the handful of numpy globals needed to rebuild arrays and
refuses everything else.
"""

from __future__ import annotations

import io
import os
import pickle
from typing import Any

import numpy as np

__all__ = ["load_numpy_pickle", "UnsafePickleError"]

# (module, name) pairs numpy uses to pickle ndarrays and dtypes, across numpy 1.x
# (numpy.core) and 2.x (numpy._core), protocols 2 to 5.
_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
) | frozenset(
    (module, name) for module in ("numpy.core.numeric", "numpy._core.numeric") for name in ("_frombuffer",)
) | frozenset({("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")})
# _codecs.encode rebuilds the bytes of array buffers in protocol-2 pickles written by
# Python 3; it only converts a string with a registered codec and runs no other code.


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle names a global that is not a numpy array constructor."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise UnsafePickleError(f"refusing to load global {module}.{name}: only numpy arrays are allowed")
        if module.startswith("numpy._core") and not hasattr(np, "_core"):
            module = module.replace("numpy._core", "numpy.core")  # file from numpy 2, reader on 1.x
        return super().find_class(module, name)


def load_numpy_pickle(path: str | os.PathLike[str]) -> Any:
    """Load a pickle made only of containers, numbers, strings and numpy arrays.

    Args:
        path: the pickle file.

    Returns:
        The unpickled object (dicts/lists/tuples of arrays and plain values).

    Raises:
        UnsafePickleError: the file references any other class or function.
        pickle.UnpicklingError: the file is not a valid pickle.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    # latin1 lets Python 2 pickles of numpy arrays (str byte buffers) load unchanged.
    return _NumpyOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
