"""Import path kept for code written against ``autogen_core._type_helpers``."""

from .base._type_helpers import (
    AnyType,
    get_types,
    is_optional,
    is_union,
)

__all__ = [
    "AnyType",
    "get_types",
    "is_optional",
    "is_union",
]
