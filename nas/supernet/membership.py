"""Whether an architecture belongs to a search space, and which of its settings does not.

The space's own :meth:`~nas.space.search_space.SearchSpace.build` is replayed with every
decision read off the architecture: a setting the space does not offer is named with the
choices it does offer, and a fixed setting that differs (stem kernel, head, a block option
the space never searches) is found by comparing the rebuilt spec with the given one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from nas.errors import SupernetError
from nas.io import excerpt
from nas.space.search_space import SearchSpace, searchable_options
from nas.space.spec import ArchSpec

__all__ = ["require_in_space"]


def _outside(arch: ArchSpec, space: SearchSpace, where: str, value: Any, offered: str) -> SupernetError:
    return SupernetError(f"architecture {arch.id} is outside the search space {space.name!r} of this supernet: "
                         f"{where} is {excerpt(value)}, the space offers {offered}; choose an architecture of that space")


def _wanted(arch: ArchSpec, name: str) -> tuple[Any, Any]:
    """The architecture's value for decision ``name`` and a key turning a choice into a
    comparable value (a block option's YAML choice becomes the stage field's value)."""
    part, _, rest = name.partition(".")
    if part == "stem":
        return getattr(arch.stem, rest), None
    if part == "neck":
        neck = arch.neck
        return {"levels": (neck.min_level, neck.max_level), "bifpn.repeats": neck.repeats}.get(rest, getattr(neck, rest, None)), None
    if part == "head":
        return getattr(arch.head, rest), None
    stage = arch.stages[int(part[1:])]
    if "." in rest:  # s<i>.<block>.<option>
        block, key = rest.split(".")
        option = searchable_options(block)[key]
        assert option.search is not None  # searchable_options holds searchable ones only
        form = option.search
        return getattr(stage, option.name), lambda choice: form.to_value(choice, stage.channels)
    return getattr(stage, {"width": "channels"}.get(rest, rest)), None


def _first_difference(given: Any, rebuilt: Any, where: str) -> tuple[str, Any, Any] | None:
    if dataclasses.is_dataclass(given) and type(given) is type(rebuilt):
        for f in dataclasses.fields(given):
            found = _first_difference(getattr(given, f.name), getattr(rebuilt, f.name), f"{where}.{f.name}" if where else f.name)
            if found:
                return found
        return None
    if isinstance(given, tuple) and isinstance(rebuilt, tuple) and len(given) == len(rebuilt) and given and dataclasses.is_dataclass(given[0]):
        for i, (a, b) in enumerate(zip(given, rebuilt)):
            found = _first_difference(a, b, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if given == rebuilt else (where, given, rebuilt)


def require_in_space(space: SearchSpace, arch: ArchSpec) -> None:
    """Raise :class:`SupernetError` naming the first setting of ``arch`` that ``space``
    does not offer. The deploy input size is not a setting of the network's weights and
    is not compared."""
    if len(arch.stages) != len(space.stages):
        raise _outside(arch, space, "the number of stages", len(arch.stages), str(len(space.stages)))

    def choose(name: str, choices: Sequence[Any]) -> Any:
        value, to_value = _wanted(arch, name)
        for choice in choices:
            if (choice if to_value is None else to_value(choice)) == value:
                return choice
        offered = ", ".join(str(c if to_value is None else to_value(c)) for c in choices)
        raise _outside(arch, space, name, value, offered)

    rebuilt = space.build(choose)
    given = dataclasses.replace(arch, input_size=rebuilt.input_size)
    difference = _first_difference(given, rebuilt, "")
    if difference is not None:
        where, value, fixed = difference
        raise _outside(arch, space, where, value, f"only {excerpt(fixed)}")
