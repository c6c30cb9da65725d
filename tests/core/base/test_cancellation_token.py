"""CancellationToken: a one-way, thread-safe flag that runs its callbacks exactly once."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from actorgen_core import CancellationToken
from actorgen_core.base import _cancellation_token


def test_new_token_is_not_cancelled() -> None:
    assert CancellationToken().is_cancelled() is False


def test_cancel_sets_the_flag_and_is_idempotent() -> None:
    token = CancellationToken()
    calls: list[str] = []
    token.add_callback(lambda: calls.append("a"))
    token.cancel()
    assert token.is_cancelled()
    token.cancel()
    token.cancel()
    assert token.is_cancelled()
    assert calls == ["a"]


def test_callbacks_run_once_in_registration_order() -> None:
    token = CancellationToken()
    calls: list[int] = []
    for i in range(5):
        token.add_callback(lambda i=i: calls.append(i))  # type: ignore[misc]
    assert calls == []
    token.cancel()
    token.cancel()
    assert calls == [0, 1, 2, 3, 4]


def test_the_same_callback_added_twice_runs_twice() -> None:
    token = CancellationToken()
    calls: list[None] = []

    def callback() -> None:
        calls.append(None)

    token.add_callback(callback)
    token.add_callback(callback)
    token.cancel()
    assert len(calls) == 2


def test_add_callback_after_cancel_runs_immediately() -> None:
    token = CancellationToken()
    token.cancel()
    calls: list[str] = []
    token.add_callback(lambda: calls.append("late"))
    assert calls == ["late"]
    token.cancel()
    assert calls == ["late"]


def test_callback_may_add_another_callback() -> None:
    token = CancellationToken()
    calls: list[str] = []
    token.add_callback(lambda: token.add_callback(lambda: calls.append("inner")))
    token.cancel()  # must not deadlock on the token's lock
    assert calls == ["inner"]


def test_callback_may_cancel_the_token_again() -> None:
    token = CancellationToken()
    calls: list[str] = []
    token.add_callback(token.cancel)
    token.add_callback(lambda: calls.append("second"))
    token.cancel()
    assert calls == ["second"]


def test_a_failing_callback_does_not_stop_the_others() -> None:
    token = CancellationToken()
    calls: list[str] = []

    def failing() -> None:
        raise KeyError("boom")

    token.add_callback(lambda: calls.append("first"))
    token.add_callback(failing)
    token.add_callback(lambda: calls.append("third"))
    # The error is not swallowed, but it surfaces only after every callback ran.
    with pytest.raises(KeyError, match="boom"):
        token.cancel()
    assert calls == ["first", "third"]
    assert token.is_cancelled()
    token.cancel()  # callbacks do not run again
    assert calls == ["first", "third"]


def test_several_failing_callbacks_are_all_reported() -> None:
    token = CancellationToken()

    def fail(exc: Exception) -> None:
        raise exc

    token.add_callback(lambda: fail(KeyError("one")))
    token.add_callback(lambda: fail(ValueError("two")))
    with pytest.raises(ExceptionGroup) as info:
        token.cancel()
    assert [type(e) for e in info.value.exceptions] == [KeyError, ValueError]


async def test_link_future_cancels_the_future_on_cancel() -> None:
    token = CancellationToken()
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    assert token.link_future(future) is future
    assert not future.cancelled()
    token.cancel()
    assert future.cancelled()


async def test_link_future_on_cancelled_token_cancels_at_once() -> None:
    token = CancellationToken()
    token.cancel()
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    token.link_future(future)
    assert future.cancelled()


async def test_link_future_leaves_a_finished_future_alone() -> None:
    token = CancellationToken()
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    token.link_future(future)
    future.set_result(7)
    token.cancel()
    assert not future.cancelled()
    assert future.result() == 7


async def test_link_future_cancels_an_awaiting_task() -> None:
    token = CancellationToken()
    loop = asyncio.get_running_loop()
    started = asyncio.Event()

    async def waiter() -> None:
        started.set()
        await token.link_future(loop.create_future())

    task = asyncio.create_task(waiter())
    await started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_link_several_futures() -> None:
    token = CancellationToken()
    loop = asyncio.get_running_loop()
    futures = [token.link_future(loop.create_future()) for _ in range(3)]
    token.cancel()
    assert all(f.cancelled() for f in futures)


async def _cancel_from_thread_while_awaited(token: CancellationToken) -> tuple[float, list[BaseException]]:
    """Wait on a linked future, cancel the token from another thread, time the wake-up."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = token.link_future(loop.create_future())
    errors: list[BaseException] = []

    def cancel() -> None:
        time.sleep(0.1)  # let the loop go to sleep in select(), waiting for the future
        try:
            token.cancel()
        except BaseException as e:  # e.g. asyncio's "non-thread-safe operation" check
            errors.append(e)

    thread = threading.Thread(target=cancel)
    # The thread starts once asyncio.wait below has registered its callback on the future.
    loop.call_soon(thread.start)
    start = time.monotonic()
    # Nothing else wakes the loop: only a thread-safe hand-over makes the wait end early.
    await asyncio.wait([future], timeout=3)
    elapsed = time.monotonic() - start
    thread.join()
    assert future.cancelled()
    return elapsed, errors


async def test_cancel_from_another_thread_wakes_the_awaiting_task_promptly() -> None:
    """asyncio futures are not thread-safe: the token must hand the cancel to the loop."""
    elapsed, errors = await _cancel_from_thread_while_awaited(CancellationToken())
    assert errors == []
    assert elapsed < 1.5


async def test_cancel_from_another_thread_with_loop_debug_checks() -> None:
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    loop.set_debug(True)  # makes asyncio raise on calls from the wrong thread
    try:
        _, errors = await _cancel_from_thread_while_awaited(CancellationToken())
    finally:
        loop.set_debug(debug)
    assert errors == []


async def test_link_future_of_a_closed_loop_does_not_break_cancel() -> None:
    other = asyncio.new_event_loop()
    future: asyncio.Future[Any] = other.create_future()
    other.close()
    token = CancellationToken()
    token.link_future(future)
    token.cancel()  # the future's loop is gone; nothing to wake, nothing to raise
    assert token.is_cancelled()


def test_thread_safety_smoke_callbacks_run_exactly_once() -> None:
    token = CancellationToken()
    counts = [0] * 200
    lock = threading.Lock()

    def make(i: int) -> Any:
        def callback() -> None:
            with lock:
                counts[i] += 1

        return callback

    barrier = threading.Barrier(8)

    def adder(offset: int) -> None:
        barrier.wait()
        for i in range(offset, 200, 4):
            token.add_callback(make(i))

    def canceller() -> None:
        barrier.wait()
        token.cancel()

    threads = [threading.Thread(target=adder, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=canceller) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert token.is_cancelled()
    # Whether added before or after the cancel, every callback ran exactly once.
    assert counts == [1] * 200


def test_concurrent_first_use_agrees_on_one_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two threads touching a fresh token at once must not each create their own lock.

    Lock creation is made slow so that both threads are inside it at the same time if the
    token lets them; with separate locks, a callback added during cancel() can be lost.
    """
    created: list[object] = []
    real_lock = threading.Lock
    both_inside = threading.Barrier(2)

    def slow_lock() -> Any:
        lock = real_lock()
        created.append(lock)
        try:
            both_inside.wait(timeout=0.2)  # only a second creator can release this early
        except threading.BrokenBarrierError:
            pass
        return lock

    token = CancellationToken()  # created before patching: a lock made here is fine too
    # Only the token module sees the slow Lock; Thread and Barrier keep the real one.
    monkeypatch.setattr(_cancellation_token, "threading", SimpleNamespace(Lock=slow_lock))
    start = threading.Barrier(2)
    ran: list[str] = []

    def add() -> None:
        start.wait()
        token.add_callback(lambda: ran.append("cb"))

    def cancel() -> None:
        start.wait()
        token.cancel()

    threads = [threading.Thread(target=add), threading.Thread(target=cancel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monkeypatch.undo()
    assert len(created) <= 1
    assert ran == ["cb"]
