"""Timers (die with the activation) and reminders (stored; survive deactivation and restart),
tested on the virtual clock: ten minutes pass in milliseconds."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from actorgen_core import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, TopicId, message_handler
from actorgen_core.application import (
    InMemoryStateStore,
    SqliteStateStore,
    Timer,
    VirtualClockLoop,
    run_with_virtual_clock,
)

MINUTE = 60.0


@dataclass
class Tick:
    label: str


@dataclass
class StartTimer:
    label: str
    delay: float
    period: float | None = None


@dataclass
class StopTimers:
    pass


@dataclass
class Remind:
    name: str
    label: str
    delay: float
    period: float | None = None


class Alarm(RoutedAgent):
    """Records (virtual time, label, topic type) for every tick it gets."""

    log: ClassVar[list[tuple[float, str, str, str]]] = []
    made: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__("alarm")
        type(self).made += 1
        self.timers: list[Any] = []

    @message_handler
    async def on_tick(self, message: Tick, ctx: MessageContext) -> None:
        assert ctx.topic_id is not None and ctx.sender is None and not ctx.is_rpc
        loop = asyncio.get_running_loop()
        self.log.append((round(loop.time(), 3), self.id.key, message.label, ctx.topic_id.type))

    @message_handler
    async def on_start(self, message: StartTimer, ctx: MessageContext) -> None:
        self.timers.append(self.schedule(Tick(message.label), message.delay, period=message.period))

    @message_handler
    async def on_stop(self, message: StopTimers, ctx: MessageContext) -> None:
        for timer in self.timers:
            timer.cancel()

    @message_handler
    async def on_remind(self, message: Remind, ctx: MessageContext) -> None:
        await self.set_reminder(message.name, Tick(message.label), message.delay, period=message.period)

    async def save_state(self) -> Mapping[str, Any]:
        return {}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        pass


@pytest.fixture(autouse=True)
def _reset() -> None:
    Alarm.log = []
    Alarm.made = 0


A = AgentId("alarm", "a")


def test_a_timer_fires_once_after_its_delay_and_a_periodic_one_until_cancelled() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await Alarm.register(runtime, "alarm", Alarm)
        runtime.start()
        await runtime.send_message(StartTimer("once", 10 * MINUTE), A)
        await runtime.send_message(StartTimer("every", MINUTE, period=2 * MINUTE), A)
        await asyncio.sleep(8 * MINUTE)
        await runtime.send_message(StopTimers(), A)
        await asyncio.sleep(HOUR)
        assert Alarm.log == [
            (60.0, "a", "every", "actorgen.timer"),
            (180.0, "a", "every", "actorgen.timer"),
            (300.0, "a", "every", "actorgen.timer"),
            (420.0, "a", "every", "actorgen.timer"),
        ]  # "once" was cancelled before its 10 minutes
        await runtime.close()

    run_with_virtual_clock(main())


HOUR = 60 * MINUTE


def test_timers_die_with_the_activation() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await runtime.register_factory("alarm", Alarm, idle_timeout=5 * MINUTE)
        runtime.start()
        await runtime.send_message(StartTimer("late", 30 * MINUTE), A)
        await asyncio.sleep(HOUR)
        assert A not in runtime._instantiated_agents
        assert Alarm.log == []  # the timer did not outlive (or revive) its activation
        assert runtime._lifecycle.scheduler.timers == {}
        await runtime.close()

    run_with_virtual_clock(main())


def test_a_periodic_timer_tick_is_a_message_and_keeps_its_agent_active() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await runtime.register_factory("alarm", Alarm, idle_timeout=5 * MINUTE)
        runtime.start()
        await runtime.send_message(StartTimer("beat", 0, period=MINUTE), A)
        await asyncio.sleep(HOUR)
        assert A in runtime._instantiated_agents and len(Alarm.log) == 61  # at 0, 1, ..., 60 minutes
        await runtime.close()
        count = len(Alarm.log)
        await asyncio.sleep(HOUR)
        assert len(Alarm.log) == count  # close() cancelled it

    run_with_virtual_clock(main())


def test_timer_ticks_due_while_the_runtime_is_stopped_are_skipped() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await Alarm.register(runtime, "alarm", Alarm)
        runtime.start()
        await runtime.send_message(StartTimer("beat", MINUTE, period=MINUTE), A)
        await asyncio.sleep(2.5 * MINUTE)
        await runtime.stop()
        await asyncio.sleep(3 * MINUTE)
        runtime.start()
        await asyncio.sleep(MINUTE)
        assert [entry[0] for entry in Alarm.log] == [60.0, 120.0, 360.0]
        await runtime.close()

    run_with_virtual_clock(main())


def test_timer_arguments_are_checked() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await Alarm.register(runtime, "alarm", Alarm)
        with pytest.raises(ValueError, match="delay"):
            runtime.schedule_message(A, Tick("x"), -1)
        with pytest.raises(ValueError, match="period"):
            runtime.schedule_message(A, Tick("x"), 1, period=0)
        with pytest.raises(ValueError, match="delay"):
            runtime.schedule_message(A, Tick("x"), math.nan)
        with pytest.raises(LookupError):
            runtime.schedule_message(AgentId("nobody", "a"), Tick("x"), 1)
        timer = runtime.schedule_message(A, Tick("x"), 1)
        assert isinstance(timer, Timer) and not timer.cancelled
        timer.cancel()
        timer.cancel()
        assert timer.cancelled

    run_with_virtual_clock(main())


def test_a_reminder_survives_deactivation_and_reactivates_its_agent() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(state_store=InMemoryStateStore())
        await Alarm.register(runtime, "alarm", Alarm, idle_timeout=MINUTE)
        runtime.start()
        await runtime.send_message(Remind("wake", "ten minutes", 10 * MINUTE), A)
        await asyncio.sleep(5 * MINUTE)
        assert A not in runtime._instantiated_agents
        await asyncio.sleep(6 * MINUTE)
        assert Alarm.log == [(600.0, "a", "ten minutes", "actorgen.reminder")]
        assert Alarm.made == 2
        assert await runtime._lifecycle.store.load_reminders() == []  # type: ignore[union-attr]  # one-shot: gone
        await runtime.close()

    run_with_virtual_clock(main())


def test_a_periodic_reminder_can_be_cancelled() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(state_store=InMemoryStateStore())
        await Alarm.register(runtime, "alarm", Alarm)
        runtime.start()
        await runtime.send_message(Remind("beat", "r", MINUTE, period=MINUTE), A)
        await asyncio.sleep(3.5 * MINUTE)
        await runtime.cancel_reminder(A, "beat")
        await asyncio.sleep(HOUR)
        assert [entry[0] for entry in Alarm.log] == [60.0, 120.0, 180.0]
        await runtime.cancel_reminder(A, "never set")
        await runtime.close()

    run_with_virtual_clock(main())


def test_reminders_need_a_store_and_a_serializable_message() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await Alarm.register(runtime, "alarm", Alarm)
        with pytest.raises(RuntimeError, match="state_store"):
            await runtime.set_reminder(A, "r", Tick("x"), 1)
        runtime = SingleThreadedAgentRuntime(state_store=InMemoryStateStore())
        await Alarm.register(runtime, "alarm", Alarm)

        @dataclass
        class Unregistered:
            x: int

        with pytest.raises(ValueError, match="No serializer is registered for Unregistered"):
            await runtime.set_reminder(A, "r", Unregistered(1), 1)
        with pytest.raises(ValueError, match="name"):
            await runtime.set_reminder(A, "", Tick("x"), 1)

    run_with_virtual_clock(main())


def test_a_reminder_fires_after_a_restart(tmp_path: Path) -> None:
    """Process one sets a ten-minute reminder and goes away after a minute; process two (a
    new runtime, a new loop, the same SQLite file) starts two minutes later and delivers it
    when it is due: seven minutes into its life."""
    path = tmp_path / "agents.db"

    async def first() -> None:
        store = SqliteStateStore(path)
        runtime = SingleThreadedAgentRuntime(state_store=store)
        await Alarm.register(runtime, "alarm", Alarm)
        runtime.start()
        await runtime.send_message(Remind("wake", "after restart", 10 * MINUTE), A)
        await asyncio.sleep(MINUTE)
        await runtime.close()
        await store.close()

    async def second() -> None:
        store = SqliteStateStore(path)
        runtime = SingleThreadedAgentRuntime(state_store=store)
        await Alarm.register(runtime, "alarm", Alarm)
        runtime.start()
        await asyncio.sleep(20 * MINUTE)
        await runtime.close()
        reminders = await store.load_reminders()
        await store.close()
        assert reminders == []

    epoch = 1_800_000_000.0
    run_with_virtual_clock(first(), wall_clock_start=epoch)
    assert Alarm.log == []
    run_with_virtual_clock(second(), wall_clock_start=epoch + 3 * MINUTE)
    assert len(Alarm.log) == 1
    fired_at, key, label, topic = Alarm.log[0]
    assert (key, label, topic) == ("a", "after restart", "actorgen.reminder")
    assert fired_at == 7 * MINUTE


def test_a_reminder_missed_while_down_fires_once_at_start() -> None:
    async def main() -> None:
        store = InMemoryStateStore()
        runtime = SingleThreadedAgentRuntime(state_store=store)
        await Alarm.register(runtime, "alarm", Alarm)
        runtime.start()
        await runtime.send_message(Remind("beat", "r", MINUTE, period=MINUTE), A)
        await runtime.stop()
        await asyncio.sleep(10.5 * MINUTE)  # stopped: nothing delivered
        assert Alarm.log == []
        runtime.start()
        await asyncio.sleep(0.1)
        await asyncio.sleep(MINUTE)
        assert [entry[0] for entry in Alarm.log] == [630.0, 660.0]  # once at start, then on the minute
        await runtime.close()

    run_with_virtual_clock(main())


def test_a_reminder_whose_handler_fails_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Alarm):
        @message_handler
        async def on_tick(self, message: Tick, ctx: MessageContext) -> None:
            raise RuntimeError("tick failed")

    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(state_store=InMemoryStateStore())
        await Broken.register(runtime, "broken", Broken)
        runtime.start()
        await runtime.set_reminder(AgentId("broken", "b"), "r", Tick("x"), MINUTE)
        await asyncio.sleep(2 * MINUTE)
        await runtime.close()

    with caplog.at_level(logging.ERROR, logger="actorgen_core"):
        run_with_virtual_clock(main())
    assert any(r.exc_info and "tick failed" in str(r.exc_info[1]) for r in caplog.records)


# ---------------------------------------------------------------------------- the virtual clock itself


def test_the_virtual_clock_jumps_when_idle_and_waits_for_threads() -> None:
    import time

    async def main() -> None:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, VirtualClockLoop)
        real = time.monotonic()
        await asyncio.sleep(10 * HOUR)
        assert loop.time() == 10 * HOUR
        # A thread's work is waited for in real time: the clock does not jump past the
        # one-hour deadline while the thread runs.
        await asyncio.wait_for(asyncio.to_thread(time.sleep, 0.05), timeout=HOUR)
        assert loop.time() == 10 * HOUR
        loop.advance(5)
        assert loop.time() == 10 * HOUR + 5
        with pytest.raises(ValueError):
            loop.advance(-1)
        assert time.monotonic() - real < 5

    run_with_virtual_clock(main())


def test_settle_and_advance_step_the_clock_by_hand() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, VirtualClockLoop)
        runtime = SingleThreadedAgentRuntime()
        await runtime.register_factory("alarm", Alarm, idle_timeout=60)
        runtime.start()
        await runtime.send_message(StartTimer("late", 3600), A)  # a timer far away: nothing else due
        loop.advance(59)
        await loop.settle()
        assert loop.time() == 59 and A in runtime._instantiated_agents
        loop.advance(1)
        await loop.settle()
        assert loop.time() == 60 and A not in runtime._instantiated_agents  # deactivated exactly at 60 s
        await runtime.close()

    run_with_virtual_clock(main())


def test_seeded_interleavings_are_reproducible_and_keep_each_agents_order() -> None:
    """Two senders each send ten messages to one agent and publish to a topic; the order
    between the senders varies with the seed, is the same for the same seed, and each
    sender's own messages stay in order (the per-agent mailbox promise)."""

    async def main() -> list[str]:
        runtime = SingleThreadedAgentRuntime()

        class Recorder(RoutedAgent):
            seen: ClassVar[list[str]] = []

            def __init__(self) -> None:
                super().__init__("recorder")

            @message_handler
            async def on_tick(self, message: Tick, ctx: MessageContext) -> None:
                await asyncio.sleep(0)
                self.seen.append(message.label)

        Recorder.seen = []
        await Recorder.register(runtime, "rec", Recorder)
        runtime.start()

        async def sender(name: str) -> None:
            for i in range(10):
                await runtime.publish_message(Tick(f"{name}{i}"), TopicId("rec:", "x"))
                await asyncio.sleep(0)

        await asyncio.gather(sender("a"), sender("b"))
        await runtime.stop_when_idle()
        await runtime.close()
        return list(Recorder.seen)

    orders = {seed: run_with_virtual_clock(main(), seed=seed) for seed in range(6)}
    assert run_with_virtual_clock(main(), seed=3) == orders[3]
    assert len({tuple(order) for order in orders.values()}) > 1
    for order in orders.values():
        assert sorted(order) == sorted(f"{n}{i}" for n in "ab" for i in range(10))
        for name in "ab":
            mine = [label for label in order if label.startswith(name)]
            assert mine == [f"{name}{i}" for i in range(10)]


# ---------------------------------------------------------------------------- a real process, killed

_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {tests!r})
    from actorgen_core import AgentId, SingleThreadedAgentRuntime
    from actorgen_core.application import SqliteStateStore
    from core.application.test_timers_and_reminders import Alarm, Remind

    async def main(set_it: bool) -> None:
        runtime = SingleThreadedAgentRuntime(state_store=SqliteStateStore({path!r}))
        await Alarm.register(runtime, "alarm", Alarm)
        runtime.start()
        if set_it:
            await runtime.send_message(Remind("wake", "after kill", 1.5), AgentId("alarm", "a"))
            print("set", flush=True)
        while not Alarm.log:
            await asyncio.sleep(0.02)
        print("fired", Alarm.log[0][2], flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main(sys.argv[1] == "set"))
    """
)


def test_a_reminder_fires_in_the_next_process_after_a_kill(tmp_path: Path) -> None:
    tests = str(Path(__file__).resolve().parents[2])
    script = _WORKER.format(tests=tests, path=str(tmp_path / "agents.db"))
    first = subprocess.Popen([sys.executable, "-c", script, "set"], stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout is not None
        assert first.stdout.readline().strip() == "set"
    finally:
        os.kill(first.pid, signal.SIGKILL)  # before the reminder is due
        first.wait(timeout=30)
    second = subprocess.Popen([sys.executable, "-c", script, "wait"], stdout=subprocess.PIPE, text=True)
    try:
        assert second.stdout is not None
        assert second.stdout.readline().strip() == "fired after kill"
    finally:
        os.kill(second.pid, signal.SIGKILL)
        second.wait(timeout=30)
