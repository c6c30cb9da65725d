from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin


class AnyType:
    """Stands for ``typing.Any`` in handler type lists."""


def is_union(t: object) -> bool:
    origin = get_origin(t)
    return origin is Union or origin is types.UnionType


def is_optional(t: object) -> bool:
    return is_union(t) and type(None) in get_args(t)


def get_types(t: object) -> tuple[type[Any], ...] | None:
    """The classes a message/return annotation stands for, or None when it names none."""
    if is_union(t):
        return tuple(a for a in get_args(t))
    if t is Any:
        return (AnyType,)
    if t is None:
        return (type(None),)
    if isinstance(t, type):
        return (t,)
    origin = get_origin(t)
    if isinstance(origin, type):  # e.g. list[str] is routed as list
        return (origin,)
    return None
