"""Start a coroutine as its own asyncio task and run its first step at once.

Every handler runs as its own task, so that everything in asyncio that asks "which task
am I in?" (``asyncio.timeout``, ``TaskGroup``, anyio cancel scopes, httpx) behaves inside
a handler exactly as anywhere else. Most handlers finish without ever waiting, so the
task's first step runs immediately, inside the sender's call, with the new task set as
the current task: a handler that does not wait costs no trip through the event loop.

Python 3.12 has this built in (``asyncio.Task(..., eager_start=True)``). On 3.11 the same
is done by hand: the task is created (which schedules its first step), the current task is
swapped for it while the coroutine's first step runs here, and the task's own first step
then only hands over what the coroutine yielded (or finishes at once if it had finished).
docs/semantics.md ("How a handler runs") says why, and what it costs.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine, Generator
from contextvars import Context
from typing import Any

EAGER_TASKS_BUILT_IN = sys.version_info >= (3, 12)


def start_lazy_task(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: Context
) -> asyncio.Task[Any]:
    """A task whose first step waits for the next loop iteration (a fresh stack)."""
    return loop.create_task(coro, context=context)


if EAGER_TASKS_BUILT_IN:  # pragma: no cover - the 3.11 run covers the other branch

    def start_task(
        loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: Context
    ) -> asyncio.Task[Any]:
        """Run ``coro``'s first step now as a new task in ``context``; return the task if it waits.

        Raises ``StopIteration(result)`` if the coroutine finished in its first step, or the
        coroutine's own exception if it raised there, as ``coro.send(None)`` does.
        """
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, context=context, eager_start=True)  # type: ignore[call-arg,unused-ignore]
        if task.done():
            raise StopIteration(task.result())
        return task

else:
    from asyncio.tasks import _enter_task, _leave_task

    _current_task = asyncio.current_task
    _PENDING: Any = object()

    class _Handover(Coroutine[Any, Any, Any]):
        """What the 3.11 task drives: a coroutine whose first step already ran elsewhere.

        The task's first ``send`` returns what that step yielded (so the task waits on it as
        if it had yielded it itself); later steps go straight to the coroutine. If the
        first step finished, the task finishes at once (its caller already has the outcome).
        """

        __slots__ = ("coro", "finished", "pending")

        def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
            self.coro = coro
            self.pending: Any = _PENDING
            self.finished = False

        def first_step(self) -> None:
            try:
                self.pending = self.coro.send(None)
            except BaseException:
                self.finished = True
                raise

        def send(self, value: Any) -> Any:
            pending = self.pending
            if pending is not _PENDING:
                self.pending = _PENDING
                return pending
            if self.finished:
                raise StopIteration(None)
            return self.coro.send(value)

        def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
            if self.finished:
                raise StopIteration(None)
            pending = self.pending
            if pending is not _PENDING:
                # Cancelled before the task took over: cancel what the first step waits on,
                # as Task.cancel() would have, then deliver the exception to the coroutine.
                self.pending = _PENDING
                exc = val if val is not None else typ
                if isinstance(exc, asyncio.CancelledError) and hasattr(pending, "cancel"):
                    pending.cancel()
            if val is None and tb is None:
                return self.coro.throw(typ)
            return self.coro.throw(typ, val, tb)

        def close(self) -> None:
            self.coro.close()

        def __await__(self) -> Generator[Any, None, Any]:
            raise TypeError("a handover is driven by its task, not awaited")

        # inspect.getcoroutinestate() (anyio asks it about tasks) reads these.
        @property
        def cr_running(self) -> bool:
            return bool(getattr(self.coro, "cr_running", False))

        @property
        def cr_suspended(self) -> bool:
            return bool(getattr(self.coro, "cr_suspended", False))

        @property
        def cr_frame(self) -> Any:
            return getattr(self.coro, "cr_frame", None)

        @property
        def cr_await(self) -> Any:
            return getattr(self.coro, "cr_await", None)

        @property
        def cr_code(self) -> Any:
            return getattr(self.coro, "cr_code", None)

    def start_task(
        loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: Context
    ) -> asyncio.Task[Any]:
        """Run ``coro``'s first step now as a new task in ``context``; return the task if it waits.

        Raises ``StopIteration(result)`` if the coroutine finished in its first step, or the
        coroutine's own exception if it raised there, as ``coro.send(None)`` does.
        """
        handover = _Handover(coro)
        task = loop.create_task(handover, context=context)
        previous = _current_task(loop)
        if previous is not None:
            _leave_task(loop, previous)
        _enter_task(loop, task)
        try:
            context.run(handover.first_step)
        finally:
            _leave_task(loop, task)
            if previous is not None:
                _enter_task(loop, previous)
        return task
