"""Start a coroutine as its own asyncio task and run its first step at once.

Every handler runs as its own task, so that everything in asyncio that asks "which task
am I in?" (``asyncio.timeout``, ``TaskGroup``, anyio cancel scopes, httpx) behaves inside
a handler exactly as anywhere else. Most handlers finish without ever waiting, so the
task's first step runs immediately, inside the sender's call, with the new task set as
the current task: a handler that does not wait costs no trip through the event loop.

Python 3.12 has this built in (``asyncio.Task(..., eager_start=True)``). On 3.11 the same
is done by hand: the task is built with its first step held back from ``loop.call_soon``,
and that step is then called at once, in the task's context, with no other task current.
It is asyncio's own step, so the task behaves from then on exactly as any other.
docs/semantics.md ("How a handler runs") says why, and what it costs.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from contextvars import Context
from typing import Any

from ..base._contexts import CURRENT_FRAME, CallFrame

EAGER_TASKS_BUILT_IN = sys.version_info >= (3, 12)


def start_lazy_task(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: Context, frame: CallFrame | None
) -> asyncio.Task[Any]:
    """A task whose first step waits for the next loop iteration (a fresh stack)."""
    if frame is not None:
        context.run(CURRENT_FRAME.set, frame)
    return loop.create_task(coro, context=context)


if EAGER_TASKS_BUILT_IN:  # pragma: no cover - the 3.11 run covers the other branch

    def start_task(
        loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: Context, frame: CallFrame | None
    ) -> tuple[asyncio.Task[Any] | None, Any]:
        """Run ``coro``'s first step now, as a new task in ``context`` with ``frame`` as its call frame.

        Returns ``(task, None)`` if the coroutine is waiting, ``(None, result)`` if it
        finished in its first step; raises the coroutine's exception if it raised there.
        """
        if frame is not None:
            context.run(CURRENT_FRAME.set, frame)
        if loop.get_task_factory() is None:
            task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, context=context, eager_start=True)  # type: ignore[call-arg,unused-ignore]
        else:  # the loop's own factory decides how tasks start
            task = loop.create_task(coro, context=context)
        if task.done():
            return None, task.result()
        return task, None

else:
    from _asyncio import Task as _CTask
    from _asyncio import _current_tasks  # type: ignore[attr-defined]  # the dict behind asyncio.current_task(), read directly: one C call

    _future_set_result = asyncio.Future.set_result  # a Task's own set_result refuses; its Future's does not
    _Task = asyncio.Task

    def _step_type() -> type:
        """The type of the callback a new C task hands to ``loop.call_soon`` (its first step).

        Found once, by building a task on a stand-in loop that only records what it is
        asked to schedule; the task is then completed so that it ends quietly.
        """
        seen: list[type] = []

        class _Recorder:
            def get_debug(self) -> bool:
                return False

            def call_soon(self, callback: Any, *args: Any, context: Context | None = None) -> None:
                seen.append(type(callback))

        async def _nothing() -> None:
            return None

        coro = _nothing()
        probe = _Task(coro, loop=_Recorder())  # type: ignore[arg-type]
        coro.close()
        _future_set_result(probe, None)
        return seen[0]

    _STEP = _step_type()

    def _catcher(loop: asyncio.AbstractEventLoop) -> tuple[Callable[..., Any], list[Any]] | None:
        """What stands in for ``loop.call_soon`` while start_task builds a task, or None if
        tasks on ``loop`` are built the ordinary way.

        A new task schedules its first step with ``loop.call_soon``. The stand-in holds that
        step back, with its context, in the two-slot list it returns with it, for start_task
        to call at once instead. Any other call (a finalizer run by the garbage collector
        could make one) goes to the loop's own method. Only asyncio's C tasks on loops with
        an instance namespace and asyncio's own ``get_debug`` get one: nothing else runs
        while such a task is built.
        """
        if _Task is not _CTask or getattr(type(loop), "get_debug", None) is not asyncio.BaseEventLoop.get_debug:
            return None
        call_soon = type(loop).call_soon
        held: list[Any] = [None, None]  # the step held back, and its context

        def hold(callback: Any, *args: Any, context: Context | None = None) -> Any:
            if type(callback) is _STEP and not args and held[0] is None:
                held[0] = callback
                held[1] = context
                return None
            return call_soon(loop, callback, *args, context=context)

        return hold, held

    _CATCHER = "_actorgen_eager_start"

    def start_task(
        loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: Context, frame: CallFrame | None
    ) -> tuple[asyncio.Task[Any] | None, Any]:
        """Run ``coro``'s first step now, as a new task in ``context`` with ``frame`` as its call frame.

        Returns ``(task, None)`` if the coroutine is waiting, ``(None, result)`` if it
        finished in its first step; raises the coroutine's exception if it raised there.
        """
        if frame is not None:
            context.run(CURRENT_FRAME.set, frame)
        # Build the task, holding its first step back (see _catcher); other loops, and loops
        # with a task factory, get loop.create_task. Written out here rather than in a
        # helper: it runs once per delivery.
        namespace = getattr(loop, "__dict__", None)
        if namespace is None:
            catcher = None
        else:
            catcher = namespace.get(_CATCHER, False)
            if catcher is False:
                catcher = namespace[_CATCHER] = _catcher(loop)
        if catcher is None or loop._task_factory is not None:  # type: ignore[attr-defined]
            return loop.create_task(coro, context=context), None  # started as 3.12 does with a task factory
        assert namespace is not None  # a catcher exists only for loops with a namespace
        hold, held = catcher
        namespace["call_soon"] = hold  # shadows the loop class's call_soon on this loop only
        try:
            task = _Task(coro, loop=loop, context=context)
        finally:
            del namespace["call_soon"]
        step = held[0]
        if step is not None:
            held[0] = None
            step_context, held[1] = held[1], None
            if step.__self__ is not task:
                # Another task's: a finalizer run by the garbage collector built one while
                # ours was being built, so ours went to the loop. Both start as asked.
                loop.call_soon(step, context=step_context)
                return task, None
            # The task's own first step, now: asyncio enters the task (so no other may be
            # current meanwhile), sends into the coroutine and, as for any step, completes
            # the task or makes it wait on what the coroutine waits on.
            previous = _current_tasks.pop(loop, None)
            try:
                context.run(step)
            finally:
                if previous is not None:
                    _current_tasks[loop] = previous
            if task.done():
                return None, task.result()
        return task, None
