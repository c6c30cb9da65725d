"""Run one command in its own process group and collect its output, with a deadline and a cap.

Why a process group: code under test routinely starts children (``subprocess``, ``&`` in a
shell script, a test server). Killing only the direct child would leave those running and,
worse, holding our output pipe open so that reading it never ends. The command therefore
runs in a new session (``start_new_session=True``, which makes it a process group leader),
and whatever ends the run — the command exiting, the timeout, a cancellation — is followed
by ``SIGKILL`` to the whole group. A process that puts itself into another session
(``setsid``, double-forking daemons) escapes this; see the not-a-sandbox warning in the docs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from actorgen_core import CancellationToken

__all__ = ["Outcome", "ProcessResult", "run_process_group", "OutputBuffer"]

_READ_CHUNK = 64 * 1024
# After the group is killed, the pipe reaches EOF at once unless a process escaped the
# group and still holds it; this bounds how long we wait for such a straggler.
_DRAIN_GRACE_SECONDS = 1.0


class Outcome(Enum):
    EXITED = "exited"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


@dataclass
class ProcessResult:
    outcome: Outcome
    returncode: int | None


class OutputBuffer:
    """Keeps at most ``limit`` bytes of output and counts what it had to drop."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError(f"output limit must be >= 0, got {limit}")
        self.limit = limit
        self._chunks: list[bytes] = []
        self.kept = 0
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.limit - self.kept
        if room > 0:
            piece = data[:room]
            self._chunks.append(piece)
            self.kept += len(piece)
            self.dropped += len(data) - len(piece)
        else:
            self.dropped += len(data)

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def text(self) -> str:
        return b"".join(self._chunks).decode("utf-8", errors="replace")


def kill_process_group(pid: int) -> None:
    """SIGKILL every process in the group led by ``pid``; a group that is gone is fine."""
    if os.name != "posix":  # pragma: no cover - the executor is POSIX-only
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _pump(stream: asyncio.StreamReader, sink: OutputBuffer) -> None:
    while True:
        data = await stream.read(_READ_CHUNK)
        if not data:
            return
        # Past the cap we keep reading (and dropping) so the process never blocks on a full pipe.
        sink.add(data)


async def _exited(proc: asyncio.subprocess.Process) -> None:
    """Resolve when the direct child has exited.

    ``Process.wait()`` cannot be used for this: it also waits for the output pipe to close,
    which never happens while a background grandchild holds it. ``returncode`` is set as soon
    as the child is reaped, so it is polled (5 ms at first, then every 50 ms).
    """
    delay = 0.005
    while proc.returncode is None:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


async def run_process_group(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    output: OutputBuffer,
    cancellation_token: CancellationToken | None,
) -> ProcessResult:
    """Run ``argv`` with stdout and stderr merged into ``output``; kill its group when it ends.

    If the calling task itself is cancelled, the group is killed and the cancellation propagates.
    """
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    loop = asyncio.get_running_loop()
    reader = asyncio.create_task(_pump(proc.stdout, output))
    waiter = asyncio.create_task(_exited(proc))
    cancelled: asyncio.Future[None] = loop.create_future()
    if cancellation_token is not None:
        cancellation_token.link_future(cancelled)
    try:
        watched: set[asyncio.Future[Any]] = {waiter, cancelled}
        done, _ = await asyncio.wait(watched, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            outcome = Outcome.EXITED
        elif cancelled in done:
            outcome = Outcome.CANCELLED
        else:
            outcome = Outcome.TIMED_OUT
    finally:
        # Also on normal exit: background processes the code left behind do not outlive it.
        kill_process_group(proc.pid)
        if not cancelled.done():
            cancelled.cancel()
        try:
            await asyncio.shield(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), _DRAIN_GRACE_SECONDS)
        finally:
            if not reader.done():
                # Something outside the group still holds the pipe: stop reading and close our end.
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
                transport = getattr(proc, "_transport", None)
                if transport is not None:
                    transport.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), _DRAIN_GRACE_SECONDS)
    return ProcessResult(outcome=outcome, returncode=proc.returncode)
