"""Typed errors raised by actorgen runtimes (``autogen_core.exceptions`` plus actorgen's own)."""

from .base._public_module import set_public_module
from .base.exceptions import (
    AgentNotFoundError,
    CantHandleException,
    MessageDroppedException,
    NotAccessibleError,
    RequestTimeoutError,
    RuntimeStoppedError,
    UndeliverableException,
)

__all__ = [
    "CantHandleException",
    "UndeliverableException",
    "MessageDroppedException",
    "NotAccessibleError",
    "RequestTimeoutError",
    "RuntimeStoppedError",
    "AgentNotFoundError",
]

set_public_module(__name__, globals())
