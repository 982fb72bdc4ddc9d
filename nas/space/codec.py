"""The compact architecture string: grammar, encoder and decoder.

Grammar (one token per section, sections joined by ``+``)::

    ARCH   := STEM ("+" STAGE)+ "+" NECK "+" HEAD "+" INPUT ["+" CLS]
    TOKEN  := NAME ("_" OPTION)*
    STEM   := "stem" with options  k<int> c<int> s<int> ACT [pool] [pad<int>]
    STAGE  := BLOCK  with options  k<int>[.<int>...] e<float> sq<int> c<int> n<int> s<int>
                                   se<float> a<int> p<int> [dw] ACT
    NECK   := VARIANT with options c<int> l<min>.<max> [dw] [r<int>]
    HEAD   := "head" with options  n<int> c<int> k<int> r<int> o<int> b<int>
    INPUT  := "in" <H> "x" <W>                      deploy input, height x width
    CLS    := "cls" with options   [h<int> ACT] [conv]
    ACT    := relu | relu6 | hs (hard-swish) | sw (swish)

Stage option letters: ``c`` output channels; ``n`` repeats; ``s`` stride of the first
repeat; the others are block options, each declared once with its letter where block
types register (:mod:`nas.blocks.options`): ``k`` kernel size(s), several (``k3.5.7``)
only for ``mix``; ``e`` expansion (inner width / input width; for ``res`` inner / output);
``sq`` fire squeeze width; ``se`` squeeze-excite ratio of the inner width; ``a`` / ``p``
groups of the 1x1 expand / project convs; ``dw`` fire's depthwise 3x3 expand. BLOCK is a
registered block type (``ir``, ``mix``, ``fire``, ``dw``, ``conv``, ``res``) and takes
only the options its registration declares. Neck VARIANT is a declared variant
(:mod:`nas.space.neck_variants`): ``none``, ``fpn``, ``panet`` or ``bifpn``; ``l2.5``
means levels P2..P5, ``r`` the BiFPN repeats, ``dw`` depthwise-separable 3x3 convs.
Head: ``n`` stacked convs, ``c`` their width, ``k`` their kernel, ``r`` RoIAlign
resolution, ``o`` output map side, ``b`` box-head FC width.

Example (MobileNetV2 + FPN, the ``densemobile`` baseline)::

    stem_k3_c32_s2_relu6+dw_k3_c16_n1_s1_relu6+ir_k3_e6_c24_n2_s2_relu6+...
    +fpn_c64_l2.5+head_n4_c128_k3_r14_o56_b256+in512x384

The canonical string (what :func:`encode` writes) lists the options in the order above:
the block options declared ``always`` (``k``, ``e``, ``sq``), then ``c``, ``n``, ``s``, then
the block's other options only where they differ from their defaults, then the
activation. :func:`decode_fields` accepts options in any order and missing
neck/head/input tokens (defaults), and names the bad token on error;
:func:`nas.space.spec.decode` builds the :class:`~nas.space.spec.ArchSpec` from them.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from nas.blocks import BLOCKS, block_names, block_options, get_block
from nas.blocks.options import BlockOption, format_float
from nas.errors import SpecError
from nas.io import excerpt
from nas.layers.activations import ACTIVATIONS
from nas.space.neck_variants import NECK_VARIANTS
from nas.space.parts import STAGE_FIELDS, ClassifierSpec, HeadSpec, NeckSpec, StageSpec, StemSpec

__all__ = ["ArchParts", "SEP", "encode", "decode_fields", "format_float", "encode_stage", "decode_stage"]

SEP = "+"
_OPTION = re.compile(r"^([a-z]+)([0-9][0-9.e-]*)$")
_INPUT = re.compile(r"^in(\d+)x(\d+)$")

# stage letter -> (StageSpec field, how it is written) for the fields every block takes
_COMMON_LETTERS: dict[str, tuple[str, str]] = {
    "c": ("channels", "c<channels>"),
    "n": ("depth", "n<repeats>"),
    "s": ("stride", "s<stride>"),
}
_COMMON_FIELDS = set(STAGE_FIELDS) - {"block"}


class ArchParts(Protocol):
    """What :func:`encode` reads of an architecture (:class:`~nas.space.spec.ArchSpec`)."""

    stem: StemSpec
    stages: tuple[StageSpec, ...]
    neck: NeckSpec
    head: HeadSpec
    input_size: tuple[int, int]
    classifier: ClassifierSpec


def encode_stage(stage: StageSpec) -> str:
    """One stage token, e.g. ``ir_k5_e6_c40_n3_s2_se0.25_hs``."""
    options = get_block(stage.block).options
    parts = [stage.block]
    parts += [o.spec_text(getattr(stage, o.name)) for o in options if o.always]
    parts += [f"c{stage.channels}", f"n{stage.depth}", f"s{stage.stride}"]
    parts += [o.spec_text(getattr(stage, o.name)) for o in options if not o.always and getattr(stage, o.name) != o.default]
    parts.append(stage.act)
    return "_".join(parts)


def encode(arch: ArchParts) -> str:
    """Canonical string of ``arch``."""
    stem = arch.stem
    stem_parts = ["stem", f"k{stem.kernel}", f"c{stem.channels}", f"s{stem.stride}", stem.act]
    if stem.pool:
        stem_parts.append("pool")
    if stem.padding is not None:
        stem_parts.append(f"pad{stem.padding}")
    neck = arch.neck
    neck_parts = [neck.variant, f"c{neck.channels}", f"l{neck.min_level}.{neck.max_level}"]
    if neck.depthwise:
        neck_parts.append("dw")
    if neck.repeats != 1:
        neck_parts.append(f"r{neck.repeats}")
    h = arch.head
    tokens = ["_".join(stem_parts)]
    tokens += [encode_stage(s) for s in arch.stages]
    tokens.append("_".join(neck_parts))
    tokens.append(f"head_n{h.convs}_c{h.channels}_k{h.kernel}_r{h.pool}_o{h.out}_b{h.box_dim}")
    tokens.append(f"in{arch.input_size[0]}x{arch.input_size[1]}")
    cls = arch.classifier
    if cls != ClassifierSpec():
        cls_parts = ["cls"]
        if cls.hidden:
            cls_parts += [f"h{cls.hidden}", cls.act]
        if cls.conv:
            cls_parts.append("conv")
        tokens.append("_".join(cls_parts))
    return SEP.join(tokens)


# -- decoding --------------------------------------------------------------------------


def _split_option(token: str, option: str, expected: str) -> tuple[str, str]:
    match = _OPTION.match(option)
    if not match:
        raise SpecError(f"in token {token!r}: cannot read option {option!r}; expected {expected}")
    return match.group(1), match.group(2)


def _int(token: str, option: str, text: str) -> int:
    if not text.isdigit():
        raise SpecError(f"in token {token!r}: option {option!r} needs a whole number, got {text!r}")
    return int(text)


def _float(token: str, option: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SpecError(f"in token {token!r}: option {option!r} needs a number, got {text!r}") from None


def _kernels(token: str, option: str, text: str) -> tuple[int, ...]:
    parts = text.split(".")
    if not all(p.isdigit() for p in parts):
        raise SpecError(f"in token {token!r}: option {option!r} needs kernel sizes like k3 or k3.5.7, got {text!r}")
    return tuple(int(p) for p in parts)


def _stage_expected(options: tuple[BlockOption, ...]) -> str:
    """What a block's stage token may hold, in canonical order."""
    hints = [o.hint for o in options if o.always] + [hint for _, hint in _COMMON_LETTERS.values()]
    hints += [o.hint for o in options if not o.always]
    return ", ".join(hints) + ", an activation (" + ", ".join(ACTIVATIONS) + ")"


def _option_value(token: str, option: str, declared: BlockOption, text: str) -> Any:
    if declared.kind == "kernels":
        return _kernels(token, option, text)
    if declared.kind == "float":
        return _float(token, option, text)
    return _int(token, option, text)


def decode_stage(token: str) -> StageSpec:
    """Parse one stage token; errors name the token and what was expected."""
    name, *options = token.split("_")
    if name not in BLOCKS:
        raise SpecError(f"in token {token!r}: unknown block type {name!r}; known block types: {', '.join(block_names())}")
    block = get_block(name)
    accepted = block.option_names | _COMMON_FIELDS
    expected = _stage_expected(block.options)
    by_letter = {o.letter: o for o in block_options()}
    values: dict[str, Any] = {}

    def put(field_name: str, value: Any, option: str) -> None:
        if field_name not in accepted:
            raise SpecError(f"in token {token!r}: block {name!r} does not take option {option!r}; it takes {expected}")
        if field_name in values:
            raise SpecError(f"in token {token!r}: option {option!r} repeats a setting given before")
        values[field_name] = value

    for option in options:
        if option in ACTIVATIONS:
            put("act", option, option)
            continue
        flag = by_letter.get(option)
        if flag is not None and flag.kind == "bool":
            put(flag.name, True, option)
            continue
        letters, text = _split_option(token, option, expected)
        declared = by_letter.get(letters)
        if letters in _COMMON_LETTERS:
            put(_COMMON_LETTERS[letters][0], _int(token, option, text), option)
        elif declared is not None and declared.kind != "bool":
            put(declared.name, _option_value(token, option, declared, text), option)
        else:
            raise SpecError(f"in token {token!r}: unknown option {option!r}; block {name!r} takes {expected}")
    if "channels" not in values:
        raise SpecError(f"in token {token!r}: missing output channels c<channels>")
    try:
        return StageSpec(block=name, **values)
    except SpecError as exc:
        raise SpecError(f"in token {token!r}: {exc}") from None


def _decode_simple(token: str, letters: dict[str, str], flags: set[str], expected: str) -> dict[str, Any]:
    """Options of stem/neck/head/cls tokens: ``letters`` maps an option prefix to a field."""
    values: dict[str, Any] = {}
    for option in token.split("_")[1:]:
        if option in flags or option in ACTIVATIONS:
            key = "act" if option in ACTIVATIONS else option
            if key in values:
                raise SpecError(f"in token {token!r}: option {option!r} repeats a setting given before")
            values[key] = option if option in ACTIVATIONS else True
            continue
        prefix, text = _split_option(token, option, expected)
        if prefix not in letters:
            raise SpecError(f"in token {token!r}: unknown option {option!r}; expected {expected}")
        field_name = letters[prefix]
        if field_name in values:
            raise SpecError(f"in token {token!r}: option {option!r} repeats a setting given before")
        values[field_name] = text
    return values


def _decode_stem(token: str) -> StemSpec:
    expected = "k<kernel>, c<channels>, s<stride>, an activation, pool, pad<padding>"
    raw = _decode_simple(token, {"k": "kernel", "c": "channels", "s": "stride", "pad": "padding"}, {"pool"}, expected)
    if "channels" not in raw:
        raise SpecError(f"in token {token!r}: missing stem channels c<channels>")
    kwargs: dict[str, Any] = {k: (_int(token, k, v) if isinstance(v, str) and k != "act" else v) for k, v in raw.items()}
    try:
        return StemSpec(**kwargs)
    except SpecError as exc:
        raise SpecError(f"in token {token!r}: {exc}") from None


def _decode_neck(token: str) -> NeckSpec:
    variant = token.split("_")[0]
    expected = "c<channels>, l<min level>.<max level>, dw, r<repeats>"
    raw = _decode_simple(token, {"c": "channels", "l": "levels", "r": "repeats"}, {"dw"}, expected)
    if "act" in raw:
        raise SpecError(f"in token {token!r}: a neck takes no activation; expected {expected}")
    kwargs: dict[str, Any] = {"variant": variant}
    for key, value in raw.items():
        if key == "levels":
            match = re.fullmatch(r"(\d)\.(\d)", value)
            if not match:
                raise SpecError(f"in token {token!r}: levels must read l<min>.<max> such as l2.5, got 'l{value}'")
            kwargs["min_level"], kwargs["max_level"] = int(match.group(1)), int(match.group(2))
        elif key == "dw":
            kwargs["depthwise"] = True
        else:
            kwargs[key] = _int(token, key, value)
    try:
        return NeckSpec(**kwargs)
    except SpecError as exc:
        raise SpecError(f"in token {token!r}: {exc}") from None


def _decode_head(token: str) -> HeadSpec:
    letters = {"n": "convs", "c": "channels", "k": "kernel", "r": "pool", "o": "out", "b": "box_dim"}
    expected = "n<convs>, c<channels>, k<kernel>, r<roi resolution>, o<output size>, b<box fc width>"
    raw = _decode_simple(token, letters, set(), expected)
    if "act" in raw:
        raise SpecError(f"in token {token!r}: the head takes no activation; expected {expected}")
    try:
        return HeadSpec(**{k: _int(token, k, v) for k, v in raw.items()})
    except SpecError as exc:
        raise SpecError(f"in token {token!r}: {exc}") from None


def _decode_cls(token: str) -> ClassifierSpec:
    expected = "h<hidden width> with an activation, or conv"
    raw = _decode_simple(token, {"h": "hidden"}, {"conv"}, expected)
    kwargs: dict[str, Any] = {}
    if "hidden" in raw:
        kwargs["hidden"] = _int(token, "h", raw["hidden"])
    if "act" in raw:
        kwargs["act"] = raw["act"]
    if raw.get("conv"):
        kwargs["conv"] = True
    try:
        return ClassifierSpec(**kwargs)
    except SpecError as exc:
        raise SpecError(f"in token {token!r}: {exc}") from None


# The longest reference string is ~500 characters and a spec of MAX_STAGES stages a few
# thousand: a far longer text is not a spec, and its errors would echo all of it.
MAX_SPEC_CHARS = 8192


def decode_fields(text: str) -> dict[str, Any]:
    """Parse an architecture string (see the module docstring for the grammar) into the
    keyword arguments of :class:`~nas.space.spec.ArchSpec`."""
    if not isinstance(text, str) or not text.strip():
        raise SpecError("empty architecture string; expected tokens joined by '+', starting with stem_...")
    if len(text) > MAX_SPEC_CHARS:
        raise SpecError(f"an architecture string of {len(text):,} characters ({excerpt(text)}) is longer than any spec "
                        f"can be ({MAX_SPEC_CHARS:,} at most)")
    tokens = text.strip().split(SEP)
    if not tokens[0].startswith("stem_") and tokens[0] != "stem":
        raise SpecError(f"first token {tokens[0]!r} must be the stem, e.g. stem_k3_c32_s2_relu")
    stem = _decode_stem(tokens[0])
    stages: list[StageSpec] = []
    parts: dict[str, Any] = {}
    known_blocks = block_names()
    for token in tokens[1:]:
        if not token:
            raise SpecError(f"empty token in {excerpt(text, 200)} (two '+' in a row?)")
        name = token.split("_")[0]
        section: str
        if name in known_blocks:
            if parts:
                raise SpecError(f"stage token {token!r} comes after the neck/head/input tokens; stages come right after the stem")
            stages.append(decode_stage(token))
            continue
        if name in NECK_VARIANTS:
            section, value = "neck", _decode_neck(token)
        elif name == "head":
            section, value = "head", _decode_head(token)
        elif name == "cls":
            section, value = "classifier", _decode_cls(token)
        elif (match := _INPUT.match(token)) is not None:
            section, value = "input_size", (int(match.group(1)), int(match.group(2)))
        else:
            raise SpecError(
                f"unknown token {token!r}: expected a stage (block type {', '.join(known_blocks)}), "
                f"a neck ({', '.join(NECK_VARIANTS)}), head_..., in<H>x<W> or cls_..."
            )
        if section in parts:
            raise SpecError(f"token {token!r}: the {section} is given twice")
        parts[section] = value
    if not stages:
        raise SpecError(f"{excerpt(text, 200)} has no stage tokens; expected e.g. stem_k3_c32_s2_relu+ir_k3_e6_c24_n2_s2_relu")
    return {"stem": stem, "stages": tuple(stages), **parts}
