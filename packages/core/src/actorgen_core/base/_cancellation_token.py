from __future__ import annotations

import threading
from asyncio import Future, get_running_loop
from collections.abc import Callable
from typing import Any

_LOCK_CREATION = threading.Lock()
"""Guards the lazy creation of token locks, so that concurrent first users share one."""


class CancellationToken:
    """A thread-safe, one-way flag that runs callbacks when it is set.

    Runtimes hand the token of a request to its handler (``ctx.cancellation_token``);
    cancelling it asks the handler, and every future linked to it, to stop. ``cancel()``
    may be called from any thread.
    """

    __slots__ = ("_callbacks", "_cancelled", "_lock")

    def __init__(self) -> None:
        self._cancelled = False
        self._callbacks: list[Callable[[], None]] | None = None
        self._lock: threading.Lock | None = None

    def _get_lock(self) -> threading.Lock:
        # Created on first use: most tokens are never linked nor cancelled. Two threads
        # using a fresh token at once must end up with the same lock, hence the re-check
        # under the creation lock.
        lock = self._lock
        if lock is None:
            with _LOCK_CREATION:
                lock = self._lock
                if lock is None:
                    lock = self._lock = threading.Lock()
        return lock

    def cancel(self) -> None:
        """Set the flag and run the registered callbacks once (idempotent).

        Every callback runs even if an earlier one raises; the error (an ExceptionGroup
        when several failed) is raised afterwards.
        """
        with self._get_lock():
            if self._cancelled:
                return
            self._cancelled = True
            callbacks, self._callbacks = self._callbacks, None
        errors: list[Exception] = []
        for callback in callbacks or ():
            try:
                callback()
            except Exception as e:
                errors.append(e)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ExceptionGroup("CancellationToken callbacks failed", errors)

    def is_cancelled(self) -> bool:
        return self._cancelled

    def add_callback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on cancellation, or now if already cancelled."""
        with self._get_lock():
            if not self._cancelled:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(callback)
                return
        callback()

    def _remove_callback(self, callback: Callable[[], None]) -> None:
        """Forget a callback registered by a runtime once the request it guarded is over."""
        with self._get_lock():
            if self._callbacks is not None:
                try:
                    self._callbacks.remove(callback)
                except ValueError:
                    pass

    def link_future(self, future: Future[Any]) -> Future[Any]:
        """Cancel ``future`` when this token is cancelled; returns the future.

        On the future's own event-loop thread the future is cancelled at once; from any
        other thread the cancellation is handed to that loop (asyncio futures are not
        thread-safe, and a foreign thread could not wake the loop).
        """
        loop = future.get_loop()

        def _cancel() -> None:
            try:
                on_loop = get_running_loop() is loop
            except RuntimeError:
                on_loop = False
            if on_loop:
                _cancel_if_pending(future)
                return
            try:
                loop.call_soon_threadsafe(_cancel_if_pending, future)
            except RuntimeError:
                pass  # the loop is closed: nobody can be waiting on the future any more

        self.add_callback(_cancel)
        return future


def _cancel_if_pending(future: Future[Any]) -> None:
    if not future.done():
        future.cancel()
