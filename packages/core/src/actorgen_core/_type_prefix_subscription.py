"""Import path kept for code written against ``autogen_core._type_prefix_subscription``."""

from .base._type_prefix_subscription import (
    TypePrefixSubscription,
)

__all__ = [
    "TypePrefixSubscription",
]
