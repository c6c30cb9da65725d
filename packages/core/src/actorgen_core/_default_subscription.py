"""Import path kept for code written against ``autogen_core._default_subscription``."""

from .base._default_subscription import (
    DefaultSubscription,
    default_subscription,
    type_subscription,
)

__all__ = [
    "DefaultSubscription",
    "default_subscription",
    "type_subscription",
]
