"""Import path kept for code written against ``autogen_core._routed_agent``."""

from .components._routed_agent import (
    MessageHandler,
    RoutedAgent,
    event,
    message_handler,
    rpc,
)

__all__ = [
    "MessageHandler",
    "RoutedAgent",
    "event",
    "message_handler",
    "rpc",
]
