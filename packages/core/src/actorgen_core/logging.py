"""Structured events emitted on the ``actorgen_core.events`` logger.

Each event is passed as the ``msg`` of a logging call; ``str(event)`` renders it as JSON.
Runtimes build them only when that logger is enabled for INFO, so they cost nothing
when nobody listens. The classes live in the base layer (``base/_events.py``) so that
runtimes and tools can emit them without importing the top-level package.
"""

from .base._events import (
    AgentConstructionExceptionEvent,
    DeliveryStage,
    LLMCallEvent,
    LLMStreamEndEvent,
    LLMStreamStartEvent,
    MessageDroppedEvent,
    MessageEvent,
    MessageHandlerExceptionEvent,
    MessageKind,
    ToolCallEvent,
)
from .base._public_module import set_public_module

__all__ = [
    "LLMCallEvent",
    "LLMStreamStartEvent",
    "LLMStreamEndEvent",
    "ToolCallEvent",
    "MessageKind",
    "DeliveryStage",
    "MessageEvent",
    "MessageDroppedEvent",
    "MessageHandlerExceptionEvent",
    "AgentConstructionExceptionEvent",
]

set_public_module(__name__, globals())
