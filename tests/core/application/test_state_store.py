"""Durable agent state: the store protocol (in memory, SQLite on a real file) and the runtime
loading state on activation and writing it after each turn that changed it."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from actorgen_core import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler
from actorgen_core.application import (
    InMemoryStateStore,
    SqliteStateStore,
    StateStore,
    StateVersionConflict,
    run_with_virtual_clock,
)

from .runtime_helpers import Ping, Pong

A = AgentId("account", "alice")


@dataclass
class Read:
    pass


@dataclass
class Corrupt:
    value: Any


class Account(RoutedAgent):
    activated_with: ClassVar[list[int]] = []

    def __init__(self) -> None:
        super().__init__("account")
        self.balance = 0
        self.extra: Any = None

    async def on_activate(self) -> None:
        type(self).activated_with.append(self.balance)

    @message_handler
    async def on_deposit(self, message: Ping, ctx: MessageContext) -> Pong:
        self.balance += message.n
        return Pong(self.balance)

    @message_handler
    async def on_read(self, message: Read, ctx: MessageContext) -> Pong:
        return Pong(self.balance)

    @message_handler
    async def on_corrupt(self, message: Corrupt, ctx: MessageContext) -> None:
        self.extra = message.value

    async def save_state(self) -> Mapping[str, Any]:
        state: dict[str, Any] = {"balance": self.balance}
        if self.extra is not None:
            state["extra"] = self.extra
        return state

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.balance = state["balance"]


class CountingStore(InMemoryStateStore):
    def __init__(self) -> None:
        super().__init__()
        self.puts = 0
        self.gets = 0

    async def get(self, agent_id: AgentId) -> Any:
        self.gets += 1
        return await super().get(agent_id)

    async def put(self, agent_id: AgentId, state_json: str, expected_version: int) -> int:
        self.puts += 1
        return await super().put(agent_id, state_json, expected_version)


@pytest.fixture(autouse=True)
def _reset() -> None:
    Account.activated_with = []


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StateStore]:
    if request.param == "memory":
        yield InMemoryStateStore()
        return
    sqlite = SqliteStateStore(tmp_path / "state.db")
    try:
        yield sqlite
    finally:
        await sqlite.close()


# ---------------------------------------------------------------------------- the protocol


async def test_store_protocol_versions(store: StateStore) -> None:
    assert isinstance(store, StateStore)
    assert await store.get(A) is None
    assert await store.put(A, '{"balance":1}', 0) == 1
    with pytest.raises(StateVersionConflict, match="version 1"):
        await store.put(A, '{"balance":99}', 0)  # "nothing stored yet" is stale now
    assert await store.put(A, '{"balance":2}', 1) == 2
    with pytest.raises(StateVersionConflict):
        await store.put(A, '{"balance":99}', 1)  # a writer that read version 1 lost the race
    stored = await store.get(A)
    assert stored is not None and stored.version == 2 and stored.state == {"balance": 2}
    with pytest.raises(StateVersionConflict):
        await store.delete(A, expected_version=1)
    assert await store.get(A) is not None
    await store.delete(A, expected_version=2)
    assert await store.get(A) is None
    await store.delete(A)  # nothing there: fine
    other = AgentId("account", "bob/with slash ✓")
    await store.put(other, "{}", 0)
    assert (await store.get(other)) == ("{}", 1)
    assert await store.get(AgentId("other", "bob/with slash ✓")) is None


async def test_sqlite_state_survives_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = SqliteStateStore(path)
    await first.put(A, '{"balance":7}', 0)
    await first.close()
    second = SqliteStateStore(path)
    try:
        assert await second.get(A) == ('{"balance":7}', 1)
    finally:
        await second.close()
    with pytest.raises(RuntimeError, match="closed"):
        await second.get(A)


async def test_sqlite_operations_asked_together_commit_together_and_fail_alone(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.db")
    try:
        await store.put(A, '{"balance":1}', 0)
        flushes = 0
        flush = store._flush

        def counting_flush() -> Any:
            nonlocal flushes
            flushes += 1
            return flush()

        store._flush = counting_flush  # type: ignore[method-assign]
        ids = [AgentId("account", f"user-{i}") for i in range(50)]
        results = await asyncio.gather(
            *(store.put(agent_id, "{}", 0) for agent_id in ids),
            store.put(A, '{"balance":99}', 0),  # stale: fails alone
            store.get(A),
            return_exceptions=True,
        )
        assert results[:50] == [1] * 50
        assert isinstance(results[50], StateVersionConflict)
        assert results[51] == ('{"balance":1}', 1)
        assert flushes <= 2  # one transaction for what was asked together (two if the thread was quick)
        assert [await store.get(agent_id) for agent_id in ids] == [("{}", 1)] * 50
    finally:
        await store.close()


def test_sqlite_store_refuses_a_path_it_cannot_open(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="unable to open"):
        SqliteStateStore(tmp_path / "missing-directory" / "state.db")


# ---------------------------------------------------------------------------- the runtime with a store


async def test_state_is_loaded_on_activation_and_written_after_turns_that_changed_it() -> None:
    store = CountingStore()
    runtime = SingleThreadedAgentRuntime(state_store=store, max_live_per_type=1)
    await Account.register(runtime, "account", Account)
    runtime.start()
    assert await runtime.send_message(Ping(5), A) == Pong(5)
    assert store.puts == 1
    assert await runtime.send_message(Read(), A) == Pong(5)
    assert store.puts == 1  # nothing changed: nothing written
    await runtime.send_message(Ping(1), AgentId("account", "bob"))  # the cap (1) drops alice
    assert A not in runtime._instantiated_agents
    assert await runtime.send_message(Ping(1), A) == Pong(6)  # alice again, from her stored state
    assert Account.activated_with == [0, 0, 5]  # on_activate sees the loaded state
    stored = await store.get(A)
    assert stored is not None and stored.state == {"balance": 6} and stored.version == 2
    await runtime.close()


async def test_a_restart_on_the_same_sqlite_file_continues_where_it_stopped(tmp_path: Path) -> None:
    path = tmp_path / "agents.db"
    for expected in (3, 6, 9):
        store = SqliteStateStore(path)
        runtime = SingleThreadedAgentRuntime(state_store=store)
        await Account.register(runtime, "account", Account)
        runtime.start()
        for _ in range(3):
            await runtime.send_message(Ping(1), A)
        assert await runtime.send_message(Read(), A) == Pong(expected)
        await runtime.close()
        await store.close()


async def test_close_writes_state_changed_outside_a_turn(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "agents.db")
    try:
        runtime = SingleThreadedAgentRuntime(state_store=store)
        await Account.register(runtime, "account", Account)
        runtime.start()
        await runtime.send_message(Ping(1), A)
        await runtime.agent_load_state(A, {"balance": 40})
        await runtime.close()
        stored = await store.get(A)
        assert stored is not None and stored.state == {"balance": 40}
    finally:
        await store.close()


async def test_stop_when_idle_waits_for_the_writes(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "agents.db")
    try:
        runtime = SingleThreadedAgentRuntime(state_store=store)
        await Account.register(runtime, "account", Account)
        runtime.start()
        for i in range(20):
            await runtime.publish_message(Ping(1), _direct(AgentId("account", str(i))))
        await runtime.stop_when_idle()
        for i in range(20):
            stored = await store.get(AgentId("account", str(i)))
            assert stored is not None and stored.state == {"balance": 1}
        await runtime.close()
    finally:
        await store.close()


def _direct(agent_id: AgentId) -> Any:
    from actorgen_core import TopicId

    return TopicId(f"{agent_id.type}:", agent_id.key)


async def test_two_instances_racing_the_stale_one_loses(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Two runtimes (think: two workers during a re-placement) both hold alice. The first write
    wins; the second finds newer state, its activation is dropped, and its next message sees
    the winner's state."""
    path = tmp_path / "agents.db"
    stores = [SqliteStateStore(path), SqliteStateStore(path)]
    runtimes = [SingleThreadedAgentRuntime(state_store=s) for s in stores]
    try:
        for runtime in runtimes:
            await Account.register(runtime, "account", Account)
            runtime.start()
            assert await runtime.send_message(Read(), A) == Pong(0)  # both activated at version 0
        first, second = runtimes
        assert await first.send_message(Ping(10), A) == Pong(10)
        await first.stop_when_idle()  # the reply can come before the write: wait for it (version 1)
        with caplog.at_level(logging.ERROR, logger="actorgen_core"):
            assert await second.send_message(Ping(1), A) == Pong(1)  # its reply stands; its write loses
            await second.stop_when_idle()
            second.start()
        assert any("changed elsewhere" in r.getMessage() for r in caplog.records)
        assert A not in second._instantiated_agents  # the stale activation is gone
        assert await second.send_message(Read(), A) == Pong(10)  # reloaded: the winner's state
        stored = await stores[0].get(A)
        assert stored is not None and stored.state == {"balance": 10}
    finally:
        for runtime in runtimes:
            await runtime.close()
        for store in stores:
            await store.close()


@pytest.mark.parametrize(
    ("value", "error"),
    [({1, 2}, "cannot be stored as JSON"), ((1, 2), "would not survive JSON"), (float("nan"), "cannot be stored")],
)
async def test_state_json_cannot_hold_is_refused_clearly(
    value: Any, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = InMemoryStateStore()
    runtime = SingleThreadedAgentRuntime(state_store=store)
    await Account.register(runtime, "account", Account)
    runtime.start()
    await runtime.send_message(Ping(1), A)
    with caplog.at_level(logging.ERROR, logger="actorgen_core"):
        await runtime.send_message(Corrupt(value), A)
        await runtime.stop_when_idle()
    assert any(error in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    stored = await store.get(A)
    assert stored is not None and stored.state == {"balance": 1}  # the last good state stays
    runtime.start()
    await runtime.send_message(Corrupt(None), A)
    await runtime.send_message(Ping(1), A)  # the next turn that changes the state writes it
    await runtime.stop_when_idle()
    stored = await store.get(A)
    assert stored is not None and stored.state == {"balance": 2}
    await runtime.close()


async def test_a_failed_state_load_fails_the_message_and_the_next_one_retries() -> None:
    class Flaky(InMemoryStateStore):
        failures = 1

        async def get(self, agent_id: AgentId) -> Any:
            if self.failures:
                self.failures -= 1
                raise OSError("store unreachable")
            return await super().get(agent_id)

    store = Flaky()
    await store.put(A, '{"balance":7}', 0)
    runtime = SingleThreadedAgentRuntime(state_store=store)
    await Account.register(runtime, "account", Account)
    runtime.start()
    with pytest.raises(OSError, match="store unreachable"):
        await runtime.send_message(Read(), A)
    assert A not in runtime._instantiated_agents
    assert Account.activated_with == []  # on_activate never ran on a half-made agent
    assert await runtime.send_message(Read(), A) == Pong(7)
    await runtime.close()


async def test_types_can_opt_out_and_agents_without_state_are_not_written() -> None:
    class Stateless(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("stateless")

        @message_handler
        async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
            return Pong(message.n)

    store = CountingStore()
    runtime = SingleThreadedAgentRuntime(state_store=store)
    await Account.register(runtime, "account", Account)
    await runtime.register_factory("volatile", Account, persistent=False)
    await runtime.register_factory("stateless", Stateless)
    runtime.start()
    await runtime.send_message(Ping(1), AgentId("volatile", "a"))
    await runtime.send_message(Ping(1), AgentId("stateless", "a"))
    assert store.puts == 0 and store.gets == 0
    await runtime.close()
    assert len(store) == 0


def test_state_survives_idle_deactivation_on_the_virtual_clock() -> None:
    async def main() -> None:
        store = InMemoryStateStore()
        runtime = SingleThreadedAgentRuntime(state_store=store)
        await runtime.register_factory("account", Account, idle_timeout=3600)
        runtime.start()
        await runtime.send_message(Ping(2), A)
        await asyncio.sleep(2 * 3600)
        assert A not in runtime._instantiated_agents
        assert await runtime.send_message(Ping(3), A) == Pong(5)
        assert Account.activated_with == [0, 2]
        await runtime.close()

    run_with_virtual_clock(main())


# ---------------------------------------------------------------------------- a real process, killed

_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {tests!r})
    from actorgen_core import AgentId, SingleThreadedAgentRuntime
    from actorgen_core.application import SqliteStateStore
    from core.application.test_state_store import Account
    from core.application.runtime_helpers import Ping

    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(state_store=SqliteStateStore({path!r}))
        await Account.register(runtime, "account", Account)
        runtime.start()
        for _ in range({deposits}):
            reply = await runtime.send_message(Ping(1), AgentId("account", "alice"))
        await runtime.stop_when_idle()  # every write has returned
        print(reply.n, flush=True)
        await asyncio.sleep(3600)  # killed here: no close(), no clean shutdown

    asyncio.run(main())
    """
)


def _start_worker(path: Path, deposits: int) -> subprocess.Popen[str]:
    tests = str(Path(__file__).resolve().parents[2])
    script = _WORKER.format(tests=tests, path=str(path), deposits=deposits)
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)


def test_state_survives_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "agents.db"
    for expected in (4, 8):
        worker = _start_worker(path, 4)
        try:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == str(expected)
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        assert worker.returncode == -signal.SIGKILL
