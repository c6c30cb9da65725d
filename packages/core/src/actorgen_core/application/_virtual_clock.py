"""An event loop with a virtual clock, for testing agents without sleeping.

``VirtualClockLoop`` is an ordinary asyncio selector loop whose ``time()`` is virtual: it
stands still while there is work to do, and when every task is waiting and nothing else
is ready, it jumps straight to the next timer. ``await asyncio.sleep(3600)`` returns at
once with ``loop.time()`` an hour later; a one-hour idle timeout, a ten-minute reminder, a
request deadline all fire in the order and at the virtual times they would in production,
in milliseconds of real time. Since every timer of the runtime (deadlines, idle sweeps,
timers, reminders) is ``loop.call_at``, nothing else is needed.

While work runs on other threads (``loop.run_in_executor``, ``asyncio.to_thread``: the
SQLite store, say), the clock does not jump: the loop waits for that work in real time, as
a production loop would, so a timer cannot fire "early" just because a thread was slow.

With ``seed``, tasks that are ready to resume at the same moment resume in an order drawn
from ``random.Random(seed)`` instead of the order they became ready (other callbacks keep
theirs). asyncio promises nothing about which of two ready tasks runs first, so each such
order is one production could see; a test can look for interleaving bugs across seeds, and
the seed that finds one reproduces it.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, TypeVar

R = TypeVar("R")


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop with a virtual, auto-advancing clock (see the module docstring).

    ``loop.time()`` starts at 0.0. ``advance(seconds)`` moves the clock forward by hand
    (timers due by then run on the next iteration).
    """

    def __init__(self, *, seed: int | None = None, wall_clock_start: float | None = None) -> None:
        super().__init__()
        self._virtual_now = 0.0
        self._epoch = time.time() if wall_clock_start is None else wall_clock_start
        self._in_threads = 0
        self._shuffle = random.Random(seed) if seed is not None else None
        self._settling: list[asyncio.Future[None]] = []

    def time(self) -> float:
        return self._virtual_now

    def wall_time(self) -> float:
        """The virtual clock as seconds since the epoch (for reminders, which are stored
        with wall-clock due times): ``wall_clock_start`` (default: the real time the loop
        was made) plus virtual time. Give each simulated process its own start to test
        what happens across a restart and the downtime before it."""
        return self._epoch + self._virtual_now

    async def settle(self) -> None:
        """Return once everything that can run at the current virtual time has run: the
        clock does not move. With ``advance`` it steps time by hand::

            loop.advance(59); await loop.settle()   # what is due by 59 s has happened
        """
        future: asyncio.Future[None] = self.create_future()
        self._settling.append(future)
        await future

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``; timers due by then run next."""
        if seconds < 0:
            raise ValueError(f"the clock cannot go back ({seconds!r} s)")
        self._virtual_now += seconds

    def run_in_executor(self, executor: Executor | None, func: Callable[..., R], *args: Any) -> asyncio.Future[R]:  # type: ignore[override]
        future: asyncio.Future[R] = super().run_in_executor(executor, func, *args)
        self._in_threads += 1
        future.add_done_callback(self._thread_done)
        return future

    def _thread_done(self, _: asyncio.Future[Any]) -> None:
        self._in_threads -= 1

    def _run_once(self) -> None:
        ready: Any = self._ready  # type: ignore[attr-defined]
        scheduled: list[Any] = self._scheduled  # type: ignore[attr-defined]
        if not ready and not self._stopping and self._in_threads == 0:  # type: ignore[attr-defined]
            while scheduled and scheduled[0]._cancelled:
                handle = heapq.heappop(scheduled)
                handle._scheduled = False
                self._timer_cancelled_count -= 1  # type: ignore[attr-defined]
            if not scheduled or scheduled[0]._when > self._virtual_now:
                # Nothing can run at this time any more: wake those who wait for that,
                # else jump to the next timer.
                if self._settling:
                    settling, self._settling = self._settling, []
                    for future in settling:
                        if not future.done():
                            future.set_result(None)
                elif scheduled:
                    self._virtual_now = scheduled[0]._when
        if self._shuffle is not None and len(ready) > 1:
            self._shuffle_tasks(ready)
        super()._run_once()  # type: ignore[misc]

    def _shuffle_tasks(self, ready: Any) -> None:
        """Reorder the tasks that are ready to resume among themselves; other callbacks keep
        their places (asyncio promises first-in first-out for ``call_soon`` callbacks, and
        code relies on it; it promises nothing about which of two ready tasks runs first)."""
        handles = list(ready)
        places = [
            i
            for i, handle in enumerate(handles)
            if isinstance(getattr(handle._callback, "__self__", None), asyncio.Task)
        ]
        if len(places) < 2:
            return
        tasks = [handles[i] for i in places]
        self._shuffle.shuffle(tasks)  # type: ignore[union-attr]
        for place, handle in zip(places, tasks, strict=True):
            handles[place] = handle
        ready.clear()
        ready.extend(handles)


def run_with_virtual_clock(
    main: Coroutine[Any, Any, R], *, seed: int | None = None, wall_clock_start: float | None = None
) -> R:
    """Run ``main`` to completion on a new VirtualClockLoop (like ``asyncio.run``)."""
    loop = VirtualClockLoop(seed=seed, wall_clock_start=wall_clock_start)
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


__all__ = ["VirtualClockLoop", "run_with_virtual_clock"]
