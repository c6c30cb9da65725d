"""Import path kept for code written against ``autogen_core._topic``."""

from .base._topic import (
    TopicId,
)

__all__ = [
    "TopicId",
]
