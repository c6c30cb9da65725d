from __future__ import annotations

import threading
from asyncio import Future
from collections.abc import Callable
from typing import Any


class CancellationToken:
    """A thread-safe, one-way flag that runs callbacks when it is set.

    Runtimes hand the token of a request to its handler (``ctx.cancellation_token``);
    cancelling it asks the handler, and every future linked to it, to stop.
    """

    __slots__ = ("_callbacks", "_cancelled", "_lock")

    def __init__(self) -> None:
        self._cancelled = False
        self._callbacks: list[Callable[[], None]] | None = None
        self._lock: threading.Lock | None = None

    def _get_lock(self) -> threading.Lock:
        # Created on first use: most tokens are never linked nor cancelled.
        lock = self._lock
        if lock is None:
            lock = self._lock = threading.Lock()
        return lock

    def cancel(self) -> None:
        """Set the flag and run the registered callbacks once (idempotent)."""
        with self._get_lock():
            if self._cancelled:
                return
            self._cancelled = True
            callbacks, self._callbacks = self._callbacks, None
        for callback in callbacks or ():
            callback()

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
        """Cancel ``future`` when this token is cancelled; returns the future."""

        def _cancel() -> None:
            if not future.done():
                future.cancel()

        self.add_callback(_cancel)
        return future
