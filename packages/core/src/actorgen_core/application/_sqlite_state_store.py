"""A StateStore in one SQLite file (stdlib sqlite3, WAL): the embedded default.

All database work runs on one dedicated thread that owns the connection, so the event
loop never blocks on disk and operations are applied in the order they were asked for.
Operations asked for while the thread is busy are applied together, in one transaction
(group commit): a thousand agents writing at once cost a few commits, not a thousand
thread round trips. Each operation still succeeds or fails on its own (a version conflict
changes nothing), and ``put`` returns only after its transaction committed: once a turn's
write has returned, the state survives the process being killed (WAL with
``synchronous=NORMAL``: a power loss may lose the last commits, a crash of the process
does not).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from os import PathLike
from typing import Any, TypeVar

from ..base import AgentId
from ._scheduling import Reminder
from ._state_store import StateVersionConflict, StoredState

R = TypeVar("R")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS agent_state (
    agent_type TEXT NOT NULL,
    agent_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (agent_type, agent_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reminder (
    agent_type TEXT NOT NULL,
    agent_key TEXT NOT NULL,
    name TEXT NOT NULL,
    due REAL NOT NULL,
    period REAL,
    type_name TEXT NOT NULL,
    data_content_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (agent_type, agent_key, name)
) WITHOUT ROWID;
"""


class _Operation:
    __slots__ = ("error", "future", "result", "work")

    def __init__(self, work: Callable[[sqlite3.Connection], Any], future: asyncio.Future[Any]) -> None:
        self.work = work
        self.future = future
        self.result: Any = None
        self.error: BaseException | None = None


def _settle(operation: _Operation) -> None:
    future = operation.future
    if future.done():
        return  # its caller stopped waiting
    if operation.error is not None:
        future.set_exception(operation.error)
    else:
        future.set_result(operation.result)


class SqliteStateStore:
    """Agents' state in the SQLite database at ``path`` (created if missing).

    Several processes may open the same file (SQLite serializes their writes; the version
    check keeps a stale writer from overwriting newer state). Call ``close()`` when done.
    """

    def __init__(self, path: str | PathLike[str]) -> None:
        self._path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="actorgen-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._closed = False
        self._lock = threading.Lock()  # guards _waiting and _flush_asked (loop thread and store thread)
        self._waiting: list[_Operation] = []
        self._flush_asked = False
        # Open now, on the store's thread, so a bad path fails here and not at the first message.
        self._executor.submit(self._connect).result()

    def _connect(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, timeout=30.0)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA)
        self._connection = connection

    async def _run(self, work: Callable[[sqlite3.Connection], R]) -> R:
        if self._closed:
            raise RuntimeError(f"SqliteStateStore({self._path!r}) is closed")
        loop = asyncio.get_running_loop()
        operation = _Operation(work, loop.create_future())
        with self._lock:
            self._waiting.append(operation)
            ask = not self._flush_asked
            self._flush_asked = True
        if ask:
            # Through the loop's executor hook (not a thread of our own), so that a loop that
            # watches work on threads (VirtualClockLoop) sees this as work under way.
            job = loop.run_in_executor(self._executor, self._flush)
            job.add_done_callback(_deliver)
        result: R = await operation.future
        return result

    def _flush(self) -> list[_Operation]:
        """On the store's thread: apply every operation waiting now, in one transaction."""
        with self._lock:
            batch, self._waiting = self._waiting, []
            self._flush_asked = False
        connection = self._connection
        if connection is None:
            error = RuntimeError(f"SqliteStateStore({self._path!r}) is closed")
            for operation in batch:
                operation.error = error
            return batch
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            for operation in batch:
                operation.error = e
            return batch
        for operation in batch:
            try:
                operation.result = operation.work(connection)
            except BaseException as e:  # delivered to that operation's caller
                operation.error = e
        try:
            connection.execute("COMMIT")
        except sqlite3.Error as e:
            try:
                connection.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            for operation in batch:
                if operation.error is None:
                    operation.error = e
        return batch

    async def get(self, agent_id: AgentId) -> StoredState | None:
        def work(db: sqlite3.Connection) -> StoredState | None:
            row = db.execute(
                "SELECT state, version FROM agent_state WHERE agent_type = ? AND agent_key = ?",
                (agent_id.type, agent_id.key),
            ).fetchone()
            return None if row is None else StoredState(row[0], row[1])

        return await self._run(work)

    async def put(self, agent_id: AgentId, state_json: str, expected_version: int) -> int:
        def work(db: sqlite3.Connection) -> int:
            if expected_version == 0:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO agent_state (agent_type, agent_key, version, state) VALUES (?, ?, 1, ?)",
                    (agent_id.type, agent_id.key, state_json),
                )
            else:
                cursor = db.execute(
                    "UPDATE agent_state SET state = ?, version = version + 1 "
                    "WHERE agent_type = ? AND agent_key = ? AND version = ?",
                    (state_json, agent_id.type, agent_id.key, expected_version),
                )
            if cursor.rowcount != 1:
                row = db.execute(
                    "SELECT version FROM agent_state WHERE agent_type = ? AND agent_key = ?",
                    (agent_id.type, agent_id.key),
                ).fetchone()
                stored = 0 if row is None else row[0]
                raise StateVersionConflict(
                    f"State of {agent_id} is at version {stored}, the writer read version {expected_version}"
                )
            return expected_version + 1

        return await self._run(work)

    async def delete(self, agent_id: AgentId, expected_version: int | None = None) -> None:
        def work(db: sqlite3.Connection) -> None:
            if expected_version is None:
                db.execute(
                    "DELETE FROM agent_state WHERE agent_type = ? AND agent_key = ?", (agent_id.type, agent_id.key)
                )
                return
            cursor = db.execute(
                "DELETE FROM agent_state WHERE agent_type = ? AND agent_key = ? AND version = ?",
                (agent_id.type, agent_id.key, expected_version),
            )
            if cursor.rowcount != 1:
                exists = db.execute(
                    "SELECT version FROM agent_state WHERE agent_type = ? AND agent_key = ?",
                    (agent_id.type, agent_id.key),
                ).fetchone()
                if exists is not None:
                    raise StateVersionConflict(
                        f"State of {agent_id} is at version {exists[0]}, the deleter read version {expected_version}"
                    )

        await self._run(work)

    async def put_reminder(self, reminder: Reminder) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO reminder (agent_type, agent_key, name, due, period, type_name, "
                "data_content_type, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    reminder.agent_id.type,
                    reminder.agent_id.key,
                    reminder.name,
                    reminder.due,
                    reminder.period,
                    reminder.type_name,
                    reminder.data_content_type,
                    reminder.payload,
                ),
            )

        await self._run(work)

    async def delete_reminder(self, agent_id: AgentId, name: str, due: float | None = None) -> None:
        def work(db: sqlite3.Connection) -> None:
            if due is None:
                db.execute(
                    "DELETE FROM reminder WHERE agent_type = ? AND agent_key = ? AND name = ?",
                    (agent_id.type, agent_id.key, name),
                )
            else:
                db.execute(
                    "DELETE FROM reminder WHERE agent_type = ? AND agent_key = ? AND name = ? AND due = ?",
                    (agent_id.type, agent_id.key, name, due),
                )

        await self._run(work)

    async def load_reminders(self) -> list[Reminder]:
        def work(db: sqlite3.Connection) -> list[Reminder]:
            rows = db.execute(
                "SELECT agent_type, agent_key, name, due, period, type_name, data_content_type, payload FROM reminder"
            ).fetchall()
            return [Reminder(AgentId(row[0], row[1]), *row[2:]) for row in rows]

        return await self._run(work)

    async def close(self) -> None:
        """Close the database (waits for writes already asked for)."""
        if self._closed:
            return
        self._closed = True

        def work() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await asyncio.get_running_loop().run_in_executor(self._executor, work)
        self._executor.shutdown(wait=True)


def _deliver(job: asyncio.Future[list[_Operation]]) -> None:
    if job.cancelled() or job.exception() is not None:
        return  # _flush sets every error on its operations itself; this only happens at shutdown
    loop = job.get_loop()
    for operation in job.result():
        target = operation.future.get_loop()
        if target is loop:
            _settle(operation)
        else:
            target.call_soon_threadsafe(_settle, operation)


__all__ = ["SqliteStateStore"]
