"""Errors that only exist across processes (the in-process ones live in ``base.exceptions``)."""

from __future__ import annotations

from ...base.exceptions import UndeliverableException

__all__ = ["HostUnavailableError", "RemoteHandlerError", "WorkerLostError", "WireValidationError"]


class RemoteHandlerError(Exception):
    """A handler on another worker raised.

    The exception object cannot cross the wire (nothing is pickled), so this keeps what
    can: ``remote_type`` is the class name of the remote exception (``"KeyError"``) and
    ``remote_message`` its ``str()``. ``str(error)`` is ``"KeyError: 'bad key'"``.
    """

    def __init__(self, remote_type: str, remote_message: str) -> None:
        super().__init__(f"{remote_type}: {remote_message}" if remote_message else remote_type)
        self.remote_type = remote_type
        self.remote_message = remote_message


class WorkerLostError(UndeliverableException):
    """The worker that held the recipient went away (or the host did) before it answered."""


class HostUnavailableError(UndeliverableException):
    """The worker is not connected to its host and could not reconnect before the deadline."""


class WireValidationError(ValueError):
    """A peer sent something that breaks the protocol's rules (an invalid id, an unknown payload type)."""
