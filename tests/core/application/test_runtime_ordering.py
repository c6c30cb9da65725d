"""Turn-based agents: one message at a time per AgentId, in arrival order; reentrancy by call chain."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from actorgen_core import (
    AgentId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)

from .runtime_helpers import Done, Event, Ping, Pong, Sleeper, Slow


@pytest.fixture(autouse=True)
def _reset_sleeper() -> None:
    Sleeper.reset()


async def test_requests_to_one_agent_run_one_at_a_time_in_arrival_order() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Sleeper.register(runtime, "sleeper", Sleeper)
    runtime.start()
    target = AgentId("sleeper", "one")
    tags = [f"m{i}" for i in range(5)]
    results = await asyncio.gather(*(runtime.send_message(Slow(0.02, tag), target) for tag in tags))
    assert [r.tag for r in results] == tags
    assert Sleeper.max_active == 1
    assert Sleeper.started == tags
    assert Sleeper.finished == tags
    await runtime.stop_when_idle()


async def test_different_agents_run_concurrently() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Sleeper.register(runtime, "sleeper", Sleeper)
    runtime.start()
    t0 = time.monotonic()
    await asyncio.gather(*(runtime.send_message(Slow(0.2, f"k{i}"), AgentId("sleeper", f"k{i}")) for i in range(4)))
    elapsed = time.monotonic() - t0
    assert Sleeper.max_active == 4
    assert elapsed < 0.6, f"four 0.2 s handlers on four agents took {elapsed:.2f} s"
    await runtime.stop_when_idle()


async def test_events_to_one_agent_are_handled_in_publish_order_one_at_a_time() -> None:
    seen: list[str] = []
    active = 0
    overlap = False

    class Collector(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("collector")

        @message_handler
        async def on_event(self, message: Event, ctx: MessageContext) -> None:
            nonlocal active, overlap
            active += 1
            overlap = overlap or active > 1
            # Alternate between handlers that finish at once and handlers that wait.
            if int(message.value) % 2 == 0:
                await asyncio.sleep(0.001)
            seen.append(message.value)
            active -= 1

    runtime = SingleThreadedAgentRuntime()
    await Collector.register(runtime, "collector", Collector)
    await runtime.add_subscription(TypeSubscription("events", "collector"))
    runtime.start()
    for i in range(20):
        await runtime.publish_message(Event(str(i)), TopicId("events", "s"))
    await runtime.stop_when_idle()
    assert seen == [str(i) for i in range(20)]
    assert not overlap


async def test_interleave_handler_runs_beside_the_current_turn() -> None:
    @dataclass
    class Status:
        pass

    gate = asyncio.Event()

    class Worker(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("worker")
            self.busy_with: str | None = None

        @message_handler
        async def on_slow(self, message: Slow, ctx: MessageContext) -> Done:
            self.busy_with = message.tag
            await gate.wait()
            self.busy_with = None
            return Done(message.tag)

        @message_handler(interleave=True)
        async def on_status(self, message: Status, ctx: MessageContext) -> Done:
            return Done(self.busy_with or "idle")

    runtime = SingleThreadedAgentRuntime()
    await Worker.register(runtime, "worker", Worker)
    runtime.start()
    target = AgentId("worker", "w")
    long_call = asyncio.ensure_future(runtime.send_message(Slow(0, "long job"), target))
    await asyncio.sleep(0.01)
    status = await asyncio.wait_for(runtime.send_message(Status(), target), 1)
    assert status.tag == "long job"
    gate.set()
    assert (await long_call).tag == "long job"
    await runtime.stop_when_idle()


async def test_call_chain_reentrancy_a_b_a_does_not_deadlock() -> None:
    @dataclass
    class Start:
        pass

    @dataclass
    class Back:
        pass

    class A(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("a")

        @message_handler
        async def on_start(self, message: Start, ctx: MessageContext) -> Pong:
            await asyncio.sleep(0)  # really suspend while waiting on B
            return await self.send_message(Ping(1), AgentId("b", "default"))

        @message_handler
        async def on_back(self, message: Back, ctx: MessageContext) -> Pong:
            await asyncio.sleep(0)
            return Pong(100)

    class B(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("b")

        @message_handler
        async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
            assert ctx.sender == AgentId("a", "default")
            back = await self.send_message(Back(), AgentId("a", "default"))
            return Pong(back.n + message.n)

    runtime = SingleThreadedAgentRuntime()
    await A.register(runtime, "a", A)
    await B.register(runtime, "b", B)
    runtime.start()
    result = await asyncio.wait_for(runtime.send_message(Start(), AgentId("a", "default"), timeout=2), 3)
    assert result == Pong(101)
    await runtime.stop_when_idle()


async def test_agent_can_send_to_itself() -> None:
    class Countdown(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("countdown")

        @message_handler
        async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
            if message.n == 0:
                return Pong(0)
            await asyncio.sleep(0)
            inner = await self.send_message(Ping(message.n - 1), self.id)
            return Pong(inner.n + 1)

    runtime = SingleThreadedAgentRuntime()
    await Countdown.register(runtime, "countdown", Countdown)
    runtime.start()
    assert await asyncio.wait_for(runtime.send_message(Ping(5), AgentId("countdown", "x"), timeout=2), 3) == Pong(5)
    await runtime.stop_when_idle()


async def test_request_from_outside_the_chain_waits_for_the_current_turn() -> None:
    """B is busy handling A's request; C (not on that chain) asking B must wait its turn."""
    order: list[str] = []
    release = asyncio.Event()

    class B(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("b")

        @message_handler
        async def on_slow(self, message: Slow, ctx: MessageContext) -> Done:
            order.append(f"start {message.tag}")
            if message.tag == "first":
                await release.wait()
            order.append(f"end {message.tag}")
            return Done(message.tag)

    runtime = SingleThreadedAgentRuntime()
    await B.register(runtime, "b", B)
    runtime.start()
    first = asyncio.ensure_future(runtime.send_message(Slow(0, "first"), AgentId("b", "k")))
    await asyncio.sleep(0.01)
    second = asyncio.ensure_future(runtime.send_message(Slow(0, "second"), AgentId("b", "k")))
    await asyncio.sleep(0.01)
    assert order == ["start first"]
    assert runtime.unprocessed_messages_count == 1
    release.set()
    await asyncio.gather(first, second)
    assert order == ["start first", "end first", "start second", "end second"]
    await runtime.stop_when_idle()


async def test_many_synchronous_requests_still_let_other_tasks_run() -> None:
    """A tight loop of requests that never wait must not starve the event loop."""
    from .runtime_helpers import Echo

    runtime = SingleThreadedAgentRuntime()
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    before = ticks
    for i in range(5000):
        await runtime.send_message(Ping(i), AgentId("echo", "x"))
    task.cancel()
    assert ticks > before + 5
    await runtime.stop_when_idle()


async def test_long_publish_ping_pong_does_not_exhaust_the_stack() -> None:
    @dataclass
    class Ball:
        hits: int

    hits: list[int] = []

    class Player(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("player")

        @message_handler
        async def on_ball(self, message: Ball, ctx: MessageContext) -> None:
            hits.append(message.hits)
            if message.hits < 5000:
                other = "pong" if self.id.type == "ping" else "ping"
                await self.publish_message(Ball(message.hits + 1), TopicId(other, "table"))

    runtime = SingleThreadedAgentRuntime()
    await Player.register(runtime, "ping", Player)
    await Player.register(runtime, "pong", Player)
    await runtime.add_subscription(TypeSubscription("ping", "ping"))
    await runtime.add_subscription(TypeSubscription("pong", "pong"))
    runtime.start()
    await runtime.publish_message(Ball(0), TopicId("ping", "table"))
    await asyncio.wait_for(runtime.stop_when_idle(), 10)
    assert hits == list(range(5001))


async def test_deeply_nested_requests_do_not_exhaust_the_stack() -> None:
    """Requests that run inline in the caller's stack must not hit the recursion limit."""

    class Chain(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("chain")

        @message_handler
        async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
            if message.n == 0:
                return Pong(0)
            next_hop = AgentId("chain", str(int(self.id.key) + 1))
            inner = await self.send_message(Ping(message.n - 1), next_hop)
            return Pong(inner.n + 1)

    runtime = SingleThreadedAgentRuntime()
    await Chain.register(runtime, "chain", Chain)
    runtime.start()
    depth = 1500
    result = await asyncio.wait_for(runtime.send_message(Ping(depth), AgentId("chain", "0")), 20)
    assert result == Pong(depth)
    await runtime.stop_when_idle()


async def test_task_left_behind_by_a_handler_waits_its_turn_like_any_sender() -> None:
    """A task a handler spawned and did not await is not part of the handler's call chain."""

    @dataclass
    class Start:
        pass

    @dataclass
    class Probe:
        pass

    observed: list[str] = []

    class Agent(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("agent")
            self.in_slow = False
            self.background: asyncio.Task[None] | None = None

        @message_handler
        async def on_start(self, message: Start, ctx: MessageContext) -> None:
            async def later() -> None:
                await asyncio.sleep(0.05)  # by now on_start has returned and on_slow is running
                await self.send_message(Probe(), self.id)

            self.background = asyncio.ensure_future(later())

        @message_handler
        async def on_slow(self, message: Slow, ctx: MessageContext) -> Done:
            self.in_slow = True
            await asyncio.sleep(message.seconds)
            self.in_slow = False
            return Done(message.tag)

        @message_handler
        async def on_probe(self, message: Probe, ctx: MessageContext) -> None:
            observed.append("during slow" if self.in_slow else "after slow")

    runtime = SingleThreadedAgentRuntime()
    await Agent.register(runtime, "agent", Agent)
    runtime.start()
    target = AgentId("agent", "a")
    await runtime.send_message(Start(), target)
    await runtime.send_message(Slow(0.2, "slow"), target)
    agent = await runtime.try_get_underlying_agent_instance(target, Agent)
    assert agent.background is not None
    await asyncio.wait_for(agent.background, 2)
    assert observed == ["after slow"]
    await runtime.stop_when_idle()


async def test_task_left_behind_by_a_handler_does_not_inherit_its_deadline() -> None:
    @dataclass
    class Start:
        pass

    outcome: list[object] = []

    class Spawner(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("spawner")
            self.background: asyncio.Task[None] | None = None

        @message_handler
        async def on_start(self, message: Start, ctx: MessageContext) -> None:
            async def later() -> None:
                await asyncio.sleep(0.3)  # longer than the request that spawned us had
                try:
                    outcome.append(await self.send_message(Ping(1), AgentId("echo", "x"), timeout=5))
                except Exception as e:
                    outcome.append(e)

            self.background = asyncio.ensure_future(later())

    from .runtime_helpers import Echo

    runtime = SingleThreadedAgentRuntime()
    await Spawner.register(runtime, "spawner", Spawner)
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    await runtime.send_message(Start(), AgentId("spawner", "s"), timeout=0.1)
    agent = await runtime.try_get_underlying_agent_instance(AgentId("spawner", "s"), Spawner)
    assert agent.background is not None
    await asyncio.wait_for(agent.background, 2)
    assert outcome == [Pong(2)]
    await runtime.stop_when_idle()
