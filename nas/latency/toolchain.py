"""The export toolchain (torch.export, torchao, ExecuTorch) run quietly."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator

__all__ = ["quiet_toolchain"]

# Loggers of the export toolchain that print harmless noise on a CPU machine: torchao's
# CUDA kernels failing to load, pytree deprecation notes.
_NOISY_LOGGERS = ("torchao", "torch.utils._pytree")


@contextlib.contextmanager
def quiet_toolchain() -> Iterator[None]:
    """Silence the export toolchain's warnings and deprecation notes for the duration (a
    user exporting two models saw ~20 lines of FutureWarnings per model); errors still raise."""
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)
