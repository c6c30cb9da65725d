"""Import path kept for code written against ``autogen_core._runtime_impl_helpers``."""

from .application._subscription_manager import (
    SubscriptionManager,
)

__all__ = [
    "SubscriptionManager",
]
