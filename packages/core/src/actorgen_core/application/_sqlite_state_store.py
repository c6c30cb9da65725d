"""A StateStore in one SQLite file (stdlib sqlite3, WAL): the embedded default.

All database work runs on one dedicated thread that owns the connection, so the event
loop never blocks on disk and writes are applied in the order they were asked for.
Each write is its own transaction, committed before ``put`` returns: once a turn's write
has returned, the state survives the process being killed (WAL with
``synchronous=NORMAL``: a power loss may lose the last writes, a crash of the process
does not).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from os import PathLike
from typing import TypeVar

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
        connection = self._connection
        assert connection is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, connection)

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


__all__ = ["SqliteStateStore"]
