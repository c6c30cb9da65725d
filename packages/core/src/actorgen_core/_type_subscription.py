"""Import path kept for code written against ``autogen_core._type_subscription``."""

from .base._type_subscription import (
    TypeSubscription,
)

__all__ = [
    "TypeSubscription",
]
