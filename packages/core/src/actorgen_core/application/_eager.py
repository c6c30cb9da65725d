"""Start a coroutine now, and give it a task only if it has to wait.

Most handlers finish without ever waiting on I/O. Running their first step directly (as
Python 3.12's eager tasks do) makes such a delivery cost a few function calls instead of
a task, a queue hop and a loop iteration. When the first step does suspend, the rest of
the coroutine continues inside an ordinary asyncio task, in the same context.
"""

from __future__ import annotations

import types
from collections.abc import Coroutine, Generator
from typing import Any

from ..base._contexts import CURRENT_FRAME, CallFrame


def first_step(coro: Coroutine[Any, Any, Any], frame: CallFrame) -> Any:
    """Run inside ``Context.run``: install the call frame, then advance ``coro`` once.

    Returns what the coroutine yielded (it suspended) or raises StopIteration (it
    finished) or the coroutine's exception.
    """
    CURRENT_FRAME.set(frame)
    return coro.send(None)


@types.coroutine
def _continue(coro: Coroutine[Any, Any, Any], yielded: Any) -> Generator[Any, Any, Any]:
    send = coro.send
    throw = coro.throw
    while True:
        try:
            value = yield yielded
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:
            try:
                yielded = throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = send(value)
            except StopIteration as stop:
                return stop.value


async def resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Any:
    """Finish a coroutine whose first step already ran and yielded ``yielded``."""
    return await _continue(coro, yielded)
