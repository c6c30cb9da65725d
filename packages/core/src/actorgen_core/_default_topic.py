"""Import path kept for code written against ``autogen_core._default_topic``."""

from .base._default_topic import (
    DefaultTopicId,
)

__all__ = [
    "DefaultTopicId",
]
