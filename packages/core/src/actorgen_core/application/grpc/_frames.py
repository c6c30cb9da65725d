"""The one place that reads and builds call frames (see ``base._contexts``).

A call frame says which agent's handler is running, its absolute deadline, the frame
waiting on it and whether its handler is still running. The worker runtime exports the
live frames of a handler that calls a remote agent and, when a request comes back
through another worker, builds a stand-in frame whose parent is the exported one, so the
single-threaded runtime sees the chain and lets the request re-enter.
"""

from __future__ import annotations

from ...base import AgentId
from ...base._contexts import CURRENT_FRAME, CallFrame

__all__ = [
    "CURRENT_FRAME",
    "CallFrame",
    "deactivate",
    "frame_deadline",
    "frame_parent",
    "is_active",
    "make_frame",
    "running_frame",
]


def running_frame() -> CallFrame | None:
    """The frame of the handler running in this context, if it is still running."""
    frame = CURRENT_FRAME.get(None)
    if frame is not None and not frame.active:
        return None
    return frame


def is_active(frame: CallFrame) -> bool:
    return frame.active


def frame_parent(frame: CallFrame) -> CallFrame | None:
    return frame.parent


def frame_deadline(frame: CallFrame) -> float | None:
    return frame.deadline


def make_frame(agent_id: AgentId | None, deadline: float | None, parent: CallFrame | None) -> CallFrame:
    # A stand-in for a remote caller may have no agent (a request sent from outside any agent).
    return CallFrame(agent_id, deadline, parent)  # type: ignore[arg-type]


def deactivate(frame: CallFrame) -> None:
    frame.active = False
