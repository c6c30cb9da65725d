"""Import path kept for code written against ``autogen_core._message_context``."""

from .base._message_context import (
    MessageContext,
)

__all__ = [
    "MessageContext",
]
