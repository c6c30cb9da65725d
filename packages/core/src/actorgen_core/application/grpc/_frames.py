"""Call chains across workers: how call-chain reentrancy survives a hop between processes.

A call frame (``base._contexts.CallFrame``) says which agent's handler is running, its
absolute deadline, the frame waiting on it and whether its handler still runs; the
single-threaded runtime lets a request into a busy agent at once when the request's
chain of frames passes through that agent's running turn.

Across processes the chain travels as ids. When a handler calls a remote agent, its live
frames are *exported* (given ids, kept findable while the request is out) and the ids
go with the request. When a request comes back to a worker that exported one of them,
the delivery runs under a *stand-in* frame whose parent is that exported frame, so
A on worker 1 -> B on worker 2 -> A re-enters A's turn instead of deadlocking. A stand-in
remembers the remote part of the chain, so a further hop carries the whole chain on.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from ...base import AgentId
from ...base._contexts import CURRENT_FRAME, CallFrame

__all__ = ["CURRENT_FRAME", "CallChains", "CallFrame"]

MAX_FRAME_ID = 64
"""Longest frame id accepted from the wire (ours are about 30 characters)."""


class CallChains:
    """This worker's exported frames and the stand-ins for chains that came from elsewhere."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(6) + ":"
        self._exported: dict[str, list[Any]] = {}  # frame id -> [frame, requests carrying it]
        self._stand_ins: dict[int, list[str]] = {}  # id(stand-in frame) -> the chain it stands for

    def export(self, frame: CallFrame | None, out: Any) -> list[str]:
        """Append to ``out`` the ids of the live frames waiting on a request, nearest first,
        and keep those frames findable until ``release`` is called with the returned ids."""
        mine: list[str] = []
        while frame is not None and frame.active:
            remote = self._stand_ins.get(id(frame))
            if remote is not None:  # the rest of the chain lives on other workers
                out.extend(remote)
                break
            frame_id = f"{self._prefix}{id(frame)}"
            entry = self._exported.get(frame_id)
            if entry is None:
                self._exported[frame_id] = [frame, 1]
            else:
                entry[1] += 1
            mine.append(frame_id)
            out.append(frame_id)
            frame = frame.parent
        return mine

    def release(self, frame_ids: list[str]) -> None:
        for frame_id in frame_ids:
            entry = self._exported.get(frame_id)
            if entry is not None:
                entry[1] -= 1
                if entry[1] <= 0:
                    del self._exported[frame_id]

    def stand_in(self, sender: AgentId | None, deadline: float | None, chain: Sequence[str]) -> CallFrame:
        """A frame for a request that arrived with ``chain``: its parent is the nearest frame
        of this worker in the chain (if any), so the runtime sees the chain; ``end`` it
        when the delivery is over."""
        parent = None
        for frame_id in chain:
            if frame_id.startswith(self._prefix):
                entry = self._exported.get(frame_id)
                if entry is not None and entry[0].active:
                    parent = entry[0]
                    break
        # A request sent from outside any agent has no sender; the frame only carries the chain.
        frame = CallFrame(sender, deadline, parent)
        self._stand_ins[id(frame)] = list(chain)
        return frame

    def end(self, frame: CallFrame) -> None:
        frame.active = False
        self._stand_ins.pop(id(frame), None)
