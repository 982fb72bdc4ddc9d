"""Block options, each declared once: its stage field, type, default, letters and YAML form.

A block type lists the :class:`BlockOption` objects it takes when it registers
(:func:`nas.blocks.register_block`). Everything else derives from those declarations:
the :class:`~nas.space.spec.StageSpec` validation and builder keywords, the spec-string
codec (:mod:`nas.space.codec`), the op-key tokens (:mod:`nas.latency.opkinds`) and the
``blocks:`` section of search-space YAML files (:mod:`nas.space.search_space`).

The options every block shares (output channels, repeats, stride, activation) are stage
fields, not block options. Blocks taking an option of the same name share its field, type,
default and letters (the registry refuses a block that disagrees); they may differ in
validation, kernel-count bounds and YAML form, e.g. ``ir`` searches one ``kernel`` while
``mix`` searches lists of ``kernels``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from nas.layers.conv_bn_act import make_divisible

__all__ = [
    "BlockOption",
    "SearchForm",
    "Check",
    "KERNELS",
    "EXPANSION",
    "SQUEEZE",
    "SE",
    "EXPAND_GROUPS",
    "PROJECT_GROUPS",
    "DEPTHWISE",
    "format_float",
]

# A validation rule: the option's value -> None when valid, else what is wrong
# (the caller prefixes where: "stage 'ir': ").
Check = Callable[[Any], str | None]
KINDS = ("int", "float", "bool", "kernels")


def format_float(value: float) -> str:
    """Shortest exact text of ``value``: ``6`` for 6.0, ``2.3``, ``0.25`` (spec strings)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class SearchForm:
    """How a search-space YAML file offers an option under ``blocks.<block>``.

    Attributes:
        name: the YAML key (the Optuna parameter is ``s<i>.<block>.<name>``).
        kind: YAML value kind: ``int``, ``float``, ``bool`` or ``intlist``.
        low, high: inclusive bounds of every number in a choice (None: unbounded).
        to_value: (chosen YAML value, stage width) -> the option's value.
    """

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    to_value: Callable[[Any, int], Any] = lambda value, width: value


@dataclass(frozen=True)
class BlockOption:
    """One option a block type takes, declared once.

    Attributes:
        name: the :class:`~nas.space.spec.StageSpec` field and the builder keyword.
        kind: ``int``, ``float``, ``bool`` (a flag) or ``kernels`` (a tuple of ints).
        default: the StageSpec field's default.
        letter: the spec-string letter (``k`` in ``ir_k5``); a flag is written as the
            letter alone when true.
        key_letter: the op-key letter (``eg`` in ``ir-...-eg1``); keys write every option.
        meaning: what follows the letter, for error messages (``k<kernel>[.<kernel>...]``).
        always: the canonical string writes it even at its default (before ``c``/``n``/``s``);
            otherwise only where it differs from the default (after them).
        checks: validation rules of the value, in order.
        count: (min, max) number of values of a ``kernels`` option.
        search: how a search space offers it; None: not searchable (its default is used).
    """

    name: str
    kind: str
    default: Any
    letter: str
    key_letter: str
    meaning: str
    always: bool = False
    checks: tuple[Check, ...] = ()
    count: tuple[int, int] = (1, 1)
    search: SearchForm | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "bool" and (self.always or self.default is not False):
            raise ValueError(f"flag option {self.name!r} must default to false and be written only when set")

    # -- text --------------------------------------------------------------------------
    @property
    def hint(self) -> str:
        """How the option is written, for 'it takes ...' messages."""
        return self.letter if self.kind == "bool" else self.meaning

    def spec_text(self, value: Any) -> str:
        """The option's token in a spec string (``k3.5``, ``e6``, ``dw``)."""
        if self.kind == "bool":
            return self.letter
        return self.letter + self._value_text(value, format_float)

    def key_text(self, value: Any) -> str:
        """The option's token in an op key (``k3.5``, ``e6``, ``dw1``); floats as ``%g``."""
        if self.kind == "bool":
            return f"{self.key_letter}{int(bool(value))}"
        return self.key_letter + self._value_text(value, lambda v: f"{float(v):g}")

    def _value_text(self, value: Any, fmt_float: Callable[[float], str]) -> str:
        if self.kind == "kernels":
            return ".".join(str(k) for k in value)
        if self.kind == "float":
            return fmt_float(value)
        return str(value)

    def parse_key(self, text: str) -> Any:
        """Inverse of :meth:`key_text` for the text after the key letter."""
        if self.kind == "kernels":
            return tuple(int(k) for k in text.split("."))
        if self.kind == "float":
            return float(text)
        if self.kind == "bool":
            return bool(int(text))
        return int(text)

    def same_field(self, other: BlockOption) -> bool:
        """Whether two declarations describe the same stage field (name, kind, default, letters)."""
        fields = ("name", "kind", "default", "letter", "key_letter", "always")
        return all(getattr(self, f) == getattr(other, f) for f in fields)

    # -- validation --------------------------------------------------------------------
    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` for this option, or None."""
        if self.kind == "kernels":
            low, high = self.count
            if not low <= len(value) <= high:
                return f"takes {low}..{high} kernel sizes, got {len(value)} ({value})"
        for check in self.checks:
            found = check(value)
            if found:
                return found
        return None

    def with_(self, **changes: Any) -> BlockOption:
        """A per-block variant (other checks, count or YAML form; same field)."""
        return replace(self, **changes)


# -- the options of the built-in blocks --------------------------------------------------
def _odd_kernels(kernels: tuple[int, ...]) -> str | None:
    if not kernels:
        return "at least one kernel size is needed"
    if not all(k in (1, 3, 5, 7, 9, 11) for k in kernels):
        return f"kernel sizes must be odd, 1..11, got {kernels}"
    return None


def _squeeze_width(ratio: float, width: int) -> int:
    # fire squeeze width as a fraction of the stage width, rounded to a multiple of 8
    return make_divisible(ratio * width, 8)


KERNELS = BlockOption(
    "kernels", "kernels", (3,), "k", "k", "k<kernel>[.<kernel>...]", always=True, checks=(_odd_kernels,),
    search=SearchForm("kernel", "int", 1, 11, lambda kernel, width: (kernel,)),
)
EXPANSION = BlockOption(
    "expansion", "float", 1.0, "e", "e", "e<expansion>", always=True,
    checks=(lambda e: None if 0 < e <= 16 else f"expansion {e} out of range (0, 16]",),
    search=SearchForm("expansion", "float", 1, 16),
)
SQUEEZE = BlockOption(
    "squeeze", "int", 0, "sq", "sq", "sq<squeeze width>", always=True,
    checks=(lambda sq: None if 0 <= sq <= 4096 else f"squeeze {sq} out of range 0..4096",),
    search=SearchForm("squeeze_ratio", "float", 0.01, 1, _squeeze_width),
)
SE = BlockOption(
    "se", "float", 0.0, "se", "se", "se<ratio>",
    checks=(lambda se: None if 0 <= se <= 1 else f"se ratio {se} out of range [0, 1]",),
    search=SearchForm("se", "float", 0, 1),
)
_GROUPS_CHECK: Check = lambda groups: None if groups >= 1 else "groups must be >= 1"  # noqa: E731
EXPAND_GROUPS = BlockOption("expand_groups", "int", 1, "a", "eg", "a<groups>", checks=(_GROUPS_CHECK,))
PROJECT_GROUPS = BlockOption("project_groups", "int", 1, "p", "pg", "p<groups>", checks=(_GROUPS_CHECK,))
DEPTHWISE = BlockOption("depthwise", "bool", False, "dw", "dw", "dw", search=SearchForm("depthwise", "bool"))
