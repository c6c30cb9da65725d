from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any, Union, get_args, get_origin, get_type_hints


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


def type_hints_with_locals(func: Callable[..., Any]) -> dict[str, Any]:
    """``get_type_hints``, also resolving names local to the function that defines the class.

    With ``from __future__ import annotations`` a message class defined inside a function
    (common in tests and notebooks) is not visible from the handler's globals; the frames
    that are executing the class body can still see it.
    """
    try:
        return get_type_hints(func)
    except NameError:
        localns: dict[str, Any] = {}
        frame = sys._getframe(1)
        for _ in range(8):
            frame = frame.f_back  # type: ignore[assignment]
            if frame is None:
                break
            for name, value in frame.f_locals.items():
                localns.setdefault(name, value)
        return get_type_hints(func, localns=localns)
