"""Typed errors raised by actorgen runtimes.

The first four names match ``autogen_core.exceptions``; unlike the reference,
actorgen actually raises them (see docs/semantics.md).
"""

from __future__ import annotations

__all__ = [
    "CantHandleException",
    "UndeliverableException",
    "MessageDroppedException",
    "NotAccessibleError",
    "RequestTimeoutError",
    "RuntimeStoppedError",
    "AgentNotFoundError",
]


class CantHandleException(Exception):
    """The recipient exists but has no handler for this message (or refuses it)."""


class UndeliverableException(Exception):
    """The message could not be delivered: no such agent type, or no route to it."""


class MessageDroppedException(Exception):
    """An intervention handler dropped the message."""


class NotAccessibleError(Exception):
    """The agent exists but its instance cannot be reached from here (e.g. it lives on another worker)."""


class RequestTimeoutError(TimeoutError):
    """A ``send_message`` deadline expired before the recipient answered.

    It is a :class:`TimeoutError`, so ``except TimeoutError`` catches it. The callee's
    cancellation token has been cancelled by the time the caller sees it.
    """


class RuntimeStoppedError(UndeliverableException):
    """The runtime was stopped before this request could be delivered or answered."""


class AgentNotFoundError(UndeliverableException, LookupError, RuntimeError):
    """No agent type is registered under that name (or the type has no instance with that key).

    An UndeliverableException, a LookupError (what autogen_core raises for an unknown
    type) and a RuntimeError (what it raises for an unknown key of an instance-only
    type), so code written for any of them catches it.
    """
