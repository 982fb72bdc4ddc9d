"""The lowering shortcuts of ``nas.latency.programs`` leave every program byte-identical."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from nas.latency.programs import _CACHED_CALLABLE

# One op of each structure the lowering treats differently: a fire module (concat of two
# expand branches), an inverted residual with squeeze-excitation, a DensePose head (transposed
# convolution and interpolation). Lowered with seeded weights, first plainly, then with
# every shortcut switched on, in one fresh interpreter (the shortcuts are process-wide).
_KEYS = (
    "fire-in:32x32x8-out:16x16x16-s2-relu-dw1-sq8",
    "ir-in:32x32x8-out:16x16x16-s2-relu-eg1-e2-k3-pg1-se0.25",
    "dphead-r2-in:7x7x16-n1-c32-k3-o28",  # deconvolution x2 then interpolation to 28, as the full head does to 56
)

_SCRIPT = """
import hashlib, sys, warnings
warnings.filterwarnings("ignore")
import torch
torch.set_num_threads(1)
from nas.latency import programs

def digests():
    return [hashlib.sha256(programs.lower_program(key)).hexdigest() for key in sys.argv[1:]]

plain = digests()
programs.speed_up_lowering()
fast = digests()
print(" ".join(plain))
print(" ".join(fast))
"""


def test_shortcuts_keep_programs_byte_identical():
    done = subprocess.run([sys.executable, "-c", _SCRIPT, *_KEYS], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    plain, fast = (line.split() for line in done.stdout.strip().splitlines()[-2:])
    assert len(plain) == len(_KEYS)
    assert fast == plain


def test_cached_callable_answers_like_collections_callable():
    assert isinstance(len, _CACHED_CALLABLE) and isinstance(lambda: 0, _CACHED_CALLABLE)
    assert not isinstance(3, _CACHED_CALLABLE)
    assert _CACHED_CALLABLE[..., int] == Callable[..., int]
    assert _CACHED_CALLABLE[..., int] is _CACHED_CALLABLE[..., int]  # built once
    assert _CACHED_CALLABLE[[int, str], bool] == Callable[[int, str], bool]  # unhashable subscript
