"""Import path kept for code written against ``autogen_core._subscription``."""

from .base._subscription import (
    Subscription,
)

__all__ = [
    "Subscription",
]
