"""Import path kept for code written against ``autogen_core._base_agent``."""

from .base._base_agent import (
    BaseAgent,
    handles,
    subscription_factory,
)

__all__ = [
    "BaseAgent",
    "handles",
    "subscription_factory",
]
