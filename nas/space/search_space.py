"""Search spaces: a YAML file of choices, validated, sampled and suggested as ArchSpecs.

The YAML layout is documented in ``search_spaces/densepose_mobile.yaml``. A list is a
choice, a scalar is fixed. :meth:`SearchSpace.sample` (NumPy generator) and
:meth:`SearchSpace.suggest` (Optuna trial, define-by-run) walk the same code with the
same parameter names, so a sampled spec and a suggested one are drawn from one space.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nas.blocks import BLOCKS, get_block
from nas.blocks.options import BlockOption
from nas.errors import NasError, SearchSpaceError
from nas.io import excerpt, read_yaml
from nas.layers.activations import ACTIVATIONS
from nas.space.neck_variants import NECK_VARIANTS
from nas.space.spec import ArchSpec, HeadSpec, NeckSpec, StageSpec, StemSpec

__all__ = ["SearchSpace", "StageChoices", "BlockChoices"]

# The default space is 2 KB; a YAML file this size describes far more than any space needs,
# and parsing a much larger one takes minutes.
MAX_SPACE_BYTES = 1 << 20
Choice = Any
Chooser = Callable[[str, Sequence[Choice]], Choice]


def searchable_options(block: str) -> dict[str, BlockOption]:
    """YAML option name -> declaration, for the options of ``block`` a search space offers."""
    return {o.search.name: o for o in get_block(block).options if o.search is not None}


def searchable_blocks() -> list[str]:
    """Block types a search space may offer (the others express reference networks)."""
    return [name for name, block in BLOCKS.items() if not block.reference_only]


@dataclass(frozen=True)
class BlockChoices:
    """Choices of one block type's options (each a tuple of allowed values)."""

    block: str
    options: dict[str, tuple[Any, ...]]


@dataclass(frozen=True)
class StageChoices:
    stride: int
    widths: tuple[int, ...]
    depths: tuple[int, ...]
    blocks: tuple[str, ...]
    acts: tuple[str, ...]


@dataclass(frozen=True)
class SearchSpace:
    """A validated search space. Build with :meth:`from_yaml` or :meth:`from_dict`."""

    name: str
    deploy_input: tuple[int, int]
    proxy_input: tuple[int, int]
    stem_kernel: int
    stem_stride: int
    stem_channels: tuple[int, ...]
    stem_acts: tuple[str, ...]
    blocks: dict[str, BlockChoices]
    stages: tuple[StageChoices, ...]
    neck_variants: tuple[str, ...]
    neck_channels: tuple[int, ...]
    neck_levels: tuple[tuple[int, int], ...]
    neck_none_level: int
    neck_depthwise: tuple[bool, ...]
    neck_repeats: tuple[int, ...]
    head: dict[str, tuple[int, ...]]
    source: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    # -- loading -------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | Path) -> SearchSpace:
        path = Path(path)
        if path.is_dir():
            raise SearchSpaceError(f"{path} is a folder, not a search space file; give a YAML file such as "
                                   "search_spaces/densepose_mobile.yaml")
        if not path.is_file():
            raise SearchSpaceError(f"search space file {path} does not exist")
        data = read_yaml(path, SearchSpaceError, "search space file", MAX_SPACE_BYTES)
        if data is None:
            raise SearchSpaceError(f"{path} is empty; a search space file describes stem, stages, blocks, neck and head "
                                   "(see search_spaces/densepose_mobile.yaml)")
        try:
            return cls.from_dict(data)
        except SearchSpaceError as exc:
            raise SearchSpaceError(f"{path}: {exc}") from None

    @classmethod
    def from_dict(cls, data: Any) -> SearchSpace:
        return _parse(data)

    @property
    def hash(self) -> str:
        """SHA-256 (16 hex digits) of the parsed space: equal files give equal hashes."""
        canonical = json.dumps(self.source, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    # -- drawing architectures -------------------------------------------------------
    def sample(self, rng: np.random.Generator | int | None = None) -> ArchSpec:
        """A uniformly drawn choice at every decision (not uniform over architectures)."""
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        return self.build(lambda name, choices: choices[int(gen.integers(len(choices)))])

    def suggest(self, trial: Any) -> ArchSpec:
        """Define-by-run suggestion through an Optuna trial (categorical parameters)."""

        def choose(name: str, choices: Sequence[Choice]) -> Choice:
            encoded = [_to_param(c) for c in choices]
            picked = trial.suggest_categorical(name, encoded)
            return choices[encoded.index(picked)]

        return self.build(choose)

    def build(self, choose: Chooser) -> ArchSpec:
        """Draw every decision through ``choose(name, choices)`` and assemble the spec.

        Fixed settings (one choice) are not decisions and never reach ``choose``.
        """
        decide = choose

        def choose(name: str, choices: Sequence[Choice]) -> Choice:
            return choices[0] if len(choices) == 1 else decide(name, choices)

        stem = StemSpec(
            channels=choose("stem.channels", self.stem_channels),
            kernel=self.stem_kernel,
            stride=self.stem_stride,
            act=choose("stem.act", self.stem_acts),
        )
        stages = tuple(self._stage(i, st, choose) for i, st in enumerate(self.stages))
        variant = choose("neck.variant", self.neck_variants)
        channels = choose("neck.channels", self.neck_channels)
        declared = NECK_VARIANTS.get(variant)
        if not declared.multi_level:
            neck = NeckSpec(variant, channels, self.neck_none_level, self.neck_none_level)
        else:
            low, high = choose("neck.levels", self.neck_levels)
            # the Optuna name predates other stacking variants; runs resume by it
            repeats = choose("neck.bifpn.repeats", self.neck_repeats) if declared.repeats else 1
            neck = NeckSpec(variant, channels, low, high, choose("neck.depthwise", self.neck_depthwise), repeats)
        head = HeadSpec(**{k: choose(f"head.{k}", v) for k, v in self.head.items()})
        return ArchSpec(stem=stem, stages=stages, neck=neck, head=head, input_size=self.deploy_input)

    def _stage(self, index: int, st: StageChoices, choose: Chooser) -> StageSpec:
        p = f"s{index}"
        block = choose(f"{p}.block", st.blocks)
        width = choose(f"{p}.width", st.widths)
        depth = choose(f"{p}.depth", st.depths)
        act = choose(f"{p}.act", st.acts)
        kwargs: dict[str, Any] = {"act": act}
        for key, option in searchable_options(block).items():
            form = option.search
            assert form is not None  # searchable_options holds searchable ones only
            kwargs[option.name] = form.to_value(choose(f"{p}.{block}.{key}", self.blocks[block].options[key]), width)
        return StageSpec(block=block, channels=width, depth=depth, stride=st.stride, **kwargs)

    # -- size ------------------------------------------------------------------------
    def size(self) -> int:
        """Number of distinct decision vectors (architectures) in the space."""
        total = len(self.stem_channels) * len(self.stem_acts)
        for st in self.stages:
            per_block = sum(math.prod(len(v) for v in self.blocks[b].options.values()) for b in st.blocks)
            total *= per_block * len(st.widths) * len(st.depths) * len(st.acts)
        neck = 0
        for variant in self.neck_variants:
            declared = NECK_VARIANTS.get(variant)
            if not declared.multi_level:
                neck += len(self.neck_channels)
            else:
                repeats = len(self.neck_repeats) if declared.repeats else 1
                neck += len(self.neck_channels) * len(self.neck_levels) * len(self.neck_depthwise) * repeats
        total *= neck
        for values in self.head.values():
            total *= len(values)
        return total

    def parameter_names(self) -> list[str]:
        """Every Optuna parameter name the space can suggest."""
        names = ["stem.channels", "stem.act"]
        for i, st in enumerate(self.stages):
            names += [f"s{i}.block", f"s{i}.width", f"s{i}.depth", f"s{i}.act"]
            names += [f"s{i}.{b}.{k}" for b in st.blocks for k in self.blocks[b].options]
        names += ["neck.variant", "neck.channels", "neck.levels", "neck.depthwise", "neck.bifpn.repeats"]
        names += [f"head.{k}" for k in self.head]
        return names


def _to_param(value: Any) -> Any:
    """Optuna categorical values must be None/bool/int/float/str: lists become ``3.5.7``."""
    if isinstance(value, (tuple, list)):
        return ".".join(str(v) for v in value)
    return value


# -- validation ------------------------------------------------------------------------


def _fail(path: str, message: str) -> SearchSpaceError:
    return SearchSpaceError(f"{path}: {message}")


def _mapping(value: Any, path: str, known: set[str], required: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    if not isinstance(value, dict):
        raise _fail(path, f"expected a mapping with keys {sorted(known)}, got {type(value).__name__}")
    unknown = sorted(set(value) - known)
    if unknown:
        raise _fail(path, f"unknown keys {excerpt(unknown, 200)}; known keys: {sorted(known)}")
    missing = sorted(required - set(value))
    if missing:
        raise _fail(path, f"missing keys {missing}")
    return value


def _scalar(value: Any, kind: str, path: str) -> Any:
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "str":
        ok = isinstance(value, str)
    elif kind == "intlist":
        ok = isinstance(value, list) and len(value) >= 1 and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        value = tuple(value) if ok else value
    elif kind == "pair":
        ok = isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        value = tuple(value) if ok else value
    else:  # pragma: no cover - programming error
        raise ValueError(kind)
    if not ok:
        expected = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string",
                    "intlist": "a list of integers", "pair": "a pair of integers [a, b]"}[kind]
        raise _fail(path, f"expected {expected}, got {excerpt(value)}")
    return value


def _choices(value: Any, kind: str, path: str, allowed: Sequence[Any] | None = None, low: float | None = None, high: float | None = None) -> tuple[Any, ...]:
    """A list of choices (or one fixed scalar); list-valued kinds need a list of lists."""
    list_kind = kind in ("intlist", "pair")
    is_choice_list = isinstance(value, list) and (not list_kind or all(isinstance(v, list) for v in value))
    items = value if is_choice_list else [value]
    if not items:
        raise _fail(path, "the list of choices is empty")
    out = tuple(_scalar(v, kind, f"{path}[{i}]" if is_choice_list else path) for i, v in enumerate(items))
    if len(set(out)) != len(out):
        raise _fail(path, f"repeated choices in {excerpt(value)}")
    for i, v in enumerate(out):
        where = f"{path}[{i}]" if is_choice_list else path
        if allowed is not None and v not in allowed:
            raise _fail(where, f"{excerpt(v)} is not one of {', '.join(map(str, allowed))}")
        nums = v if isinstance(v, tuple) else (v,)
        for n in nums:
            if isinstance(n, bool) or not isinstance(n, (int, float)):
                continue
            if (low is not None and n < low) or (high is not None and n > high):
                raise _fail(where, f"{excerpt(v)} out of range [{low}, {high}]")
    return out


def _parse(data: Any) -> SearchSpace:
    top = _mapping(data, "<root>", {"name", "input", "stem", "blocks", "stage_defaults", "stages", "neck", "head"}, {"name", "input", "stem", "blocks", "stages", "neck"})
    name = _scalar(top["name"], "str", "name")
    inp = _mapping(top["input"], "input", {"deploy", "proxy"}, {"deploy", "proxy"})
    deploy = _scalar(inp["deploy"], "pair", "input.deploy")
    proxy = _scalar(inp["proxy"], "pair", "input.proxy")
    for where, (h, w) in (("input.deploy", deploy), ("input.proxy", proxy)):
        if h % 32 or w % 32 or not (64 <= h <= 4096 and 64 <= w <= 4096):
            raise _fail(where, f"{h}x{w}: height and width must be multiples of 32 in 64..4096")

    stem = _mapping(top["stem"], "stem", {"kernel", "stride", "channels", "act"}, {"channels"})
    stem_kernel = _scalar(stem.get("kernel", 3), "int", "stem.kernel")
    stem_stride = _scalar(stem.get("stride", 2), "int", "stem.stride")
    if stem_kernel not in (1, 3, 5, 7):
        raise _fail("stem.kernel", f"{stem_kernel} is not one of 1, 3, 5, 7")
    if stem_stride not in (1, 2):
        raise _fail("stem.stride", f"{stem_stride} is not 1 or 2")
    stem_channels = _choices(stem["channels"], "int", "stem.channels", low=1, high=1024)
    stem_acts = _choices(stem.get("act", "relu"), "str", "stem.act", allowed=list(ACTIVATIONS))

    blocks_raw = _mapping(top["blocks"], "blocks", set(searchable_blocks()))
    blocks = {block: _block_choices(block, raw) for block, raw in blocks_raw.items()}

    defaults = _mapping(top.get("stage_defaults", {}), "stage_defaults", {"act", "block", "depth", "width"})
    raw_stages = top["stages"]
    if not isinstance(raw_stages, list) or not raw_stages:
        raise _fail("stages", "expected a non-empty list of stages")
    stages = []
    stride = stem_stride
    reached: set[int] = set()
    for i, raw in enumerate(raw_stages):
        path = f"stages[{i}]"
        st = _mapping(raw, path, {"stride", "width", "depth", "block", "act"}, {"stride"})
        st = {**defaults, **st}
        for key in ("width", "depth", "block"):
            if key not in st:
                raise _fail(path, f"missing key {key!r} (and no stage_defaults.{key})")
        s = _scalar(st["stride"], "int", f"{path}.stride")
        if s not in (1, 2):
            raise _fail(f"{path}.stride", f"{s} is not 1 or 2")
        stride *= s
        reached.add(stride)
        offered = _choices(st["block"], "str", f"{path}.block", allowed=list(blocks))
        stages.append(StageChoices(
            stride=s,
            widths=_choices(st["width"], "int", f"{path}.width", low=8, high=2048),
            depths=_choices(st["depth"], "int", f"{path}.depth", low=1, high=16),
            blocks=offered,
            acts=_choices(st.get("act", "relu"), "str", f"{path}.act", allowed=list(ACTIVATIONS)),
        ))
        for block in map(get_block, offered):
            if any(w % block.width_multiple for w in stages[-1].widths):
                need = "even widths" if block.width_multiple == 2 else f"widths divisible by {block.width_multiple}"
                raise _fail(f"{path}.width", f"{block.name} stages need {need} ({block.width_reason})")
    missing = [s for s in (4, 8, 16, 32) if s not in reached]
    if missing:
        raise _fail("stages", f"the stride schedule never reaches stride {missing}; the backbone must give features at strides 4, 8, 16 and 32")

    neck = _mapping(top["neck"], "neck", {"variant", "channels", "levels", "none_level", "depthwise", "repeats"}, {"variant", "channels"})
    variants = _choices(neck["variant"], "str", "neck.variant", allowed=list(NECK_VARIANTS))
    neck_channels = _choices(neck["channels"], "int", "neck.channels", low=8, high=1024)
    levels = _choices(neck.get("levels", [2, 5]), "pair", "neck.levels", low=2, high=7)
    for i, (lo, hi) in enumerate(levels):
        if hi - lo < 1:
            raise _fail(f"neck.levels[{i}]", f"[{lo}, {hi}] needs min < max")
    none_level = _scalar(neck.get("none_level", 4), "int", "neck.none_level")
    if not 2 <= none_level <= 5:
        raise _fail("neck.none_level", f"{none_level} out of range 2..5")
    head_raw = _mapping(top.get("head", {}), "head", {"convs", "channels", "kernel", "pool", "out", "box_dim"})
    head = {k: _choices(v, "int", f"head.{k}", low=1, high=4096) for k, v in head_raw.items()}

    space = SearchSpace(
        name=name,
        deploy_input=deploy,
        proxy_input=proxy,
        stem_kernel=stem_kernel,
        stem_stride=stem_stride,
        stem_channels=stem_channels,
        stem_acts=stem_acts,
        blocks=blocks,
        stages=tuple(stages),
        neck_variants=variants,
        neck_channels=neck_channels,
        neck_levels=levels,
        neck_none_level=none_level,
        neck_depthwise=_choices(neck.get("depthwise", False), "bool", "neck.depthwise"),
        neck_repeats=_choices(neck.get("repeats", 1), "int", "neck.repeats", low=1, high=8),
        head=head,
        source=data,
    )
    _check_extremes(space)
    return space


def _block_choices(block: str, raw: Any) -> BlockChoices:
    """``blocks.<block>``: a choice list per searchable option the block declares."""
    declared = searchable_options(block)
    opts = _mapping(raw, f"blocks.{block}", set(declared), set(declared))
    parsed = {}
    for key, option in declared.items():
        form = option.search
        assert form is not None  # searchable_options holds searchable ones only
        path = f"blocks.{block}.{key}"
        parsed[key] = _choices(opts[key], form.kind, path, low=form.low, high=form.high)
        if option.kind == "kernels":  # the block's kernel rules hold for every choice
            for choice in parsed[key]:
                problem = option.problem(form.to_value(choice, 0))
                if problem:
                    raise _fail(path, problem)
    return BlockChoices(block, parsed)


def _check_extremes(space: SearchSpace) -> None:
    """Every head setting combination must make a valid HeadSpec; fail early with the path."""
    import itertools

    keys = list(space.head)
    for combo in itertools.product(*(space.head[k] for k in keys)):
        try:
            HeadSpec(**dict(zip(keys, combo)))
        except NasError as exc:
            raise _fail("head", str(exc)) from None
