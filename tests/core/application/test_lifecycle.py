"""Virtual-actor lifecycle: activation hooks, idle deactivation, the live cap (docs/lifecycle.md).

Most tests run on the virtual clock (``run_with_virtual_clock``): an hour of idleness
passes in milliseconds, and deactivation times are exact.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar

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
from actorgen_core.application import run_with_virtual_clock

from .runtime_helpers import Ping, Pong

HOUR = 3600.0


@dataclass
class Hold:
    seconds: float


@dataclass
class Leave:
    pass


@dataclass
class Status:
    quick: bool = False


class Tracked(RoutedAgent):
    """Counts pings; records its hooks in a shared journal."""

    journal: ClassVar[list[str]] = []
    made: ClassVar[int] = 0
    fail_activate: ClassVar[int] = 0  # how many activations still fail
    fail_deactivate: ClassVar[bool] = False
    deactivate_seconds: ClassVar[float] = 0.0
    activate_seconds: ClassVar[float] = 0.0

    def __init__(self) -> None:
        super().__init__("tracked")
        type(self).made += 1
        self.count = 0

    @classmethod
    def reset(cls) -> None:
        cls.journal = []
        cls.made = 0
        cls.fail_activate = 0
        cls.fail_deactivate = False
        cls.deactivate_seconds = 0.0
        cls.activate_seconds = 0.0

    async def on_activate(self) -> None:
        self.journal.append(f"activate {self.id.key}")
        if self.activate_seconds:
            await asyncio.sleep(self.activate_seconds)
            self.journal.append(f"activated {self.id.key}")
        if type(self).fail_activate:
            type(self).fail_activate -= 1
            raise LookupError(f"cannot activate {self.id.key}")

    async def on_deactivate(self) -> None:
        self.journal.append(f"deactivate {self.id.key}")
        if self.deactivate_seconds:
            await asyncio.sleep(self.deactivate_seconds)
        if self.fail_deactivate:
            raise RuntimeError("on_deactivate failed")

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
        self.count += message.n
        self.journal.append(f"ping {self.id.key} {self.count}")
        return Pong(self.count)

    @message_handler
    async def on_hold(self, message: Hold, ctx: MessageContext) -> Pong:
        self.journal.append(f"hold {self.id.key}")
        await asyncio.sleep(message.seconds)
        self.journal.append(f"held {self.id.key}")
        return Pong(self.count)

    @message_handler
    async def on_leave(self, message: Leave, ctx: MessageContext) -> None:
        self.journal.append(f"leave {self.id.key}")
        self.deactivate_when_idle()

    @message_handler(interleave=True)
    async def on_status(self, message: Status, ctx: MessageContext) -> Pong:
        self.journal.append(f"status {self.id.key}")
        if not message.quick:
            await asyncio.sleep(HOUR * 2)
        return Pong(self.count)


class Plain(RoutedAgent):
    """No hooks: the sync-creation path."""

    made: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__("plain")
        type(self).made += 1
        self.count = 0

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
        self.count += message.n
        return Pong(self.count)


@pytest.fixture(autouse=True)
def _reset() -> None:
    Tracked.reset()
    Plain.made = 0


async def started_tracked(**runtime_options: Any) -> tuple[SingleThreadedAgentRuntime, AgentId]:
    """A started runtime whose type ``t`` is Tracked with a 60 s idle timeout, and ``t/a``."""
    runtime = SingleThreadedAgentRuntime(**runtime_options)
    await runtime.register_factory("t", Tracked, idle_timeout=60)
    runtime.start()
    return runtime, AgentId("t", "a")


def virtual(coro: Coroutine[Any, Any, None]) -> None:
    run_with_virtual_clock(coro)


def now() -> float:
    return asyncio.get_running_loop().time()


# ---------------------------------------------------------------------------- hooks


def test_on_activate_runs_once_before_the_first_message() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await Tracked.register(runtime, "t", Tracked)
        runtime.start()
        a = AgentId("t", "a")
        await asyncio.gather(*(runtime.send_message(Ping(1), a) for _ in range(3)))
        assert Tracked.journal == ["activate a", "ping a 1", "ping a 2", "ping a 3"]
        await runtime.close()
        assert Tracked.journal[-1] == "deactivate a"  # close() deactivates what lives

    virtual(main())


def test_a_failed_activation_fails_the_message_and_leaves_no_agent() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await Tracked.register(runtime, "t", Tracked)
        runtime.start()
        a = AgentId("t", "a")
        Tracked.fail_activate = 1
        with pytest.raises(LookupError, match="cannot activate a"):
            await runtime.send_message(Ping(1), a)
        assert a not in runtime._instantiated_agents
        # The next message makes a new agent from the factory; that one activates.
        assert await runtime.send_message(Ping(5), a) == Pong(5)
        assert Tracked.made == 2
        await runtime.close()

    virtual(main())


def test_a_failed_activation_fails_every_message_waiting_for_it() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await Tracked.register(runtime, "t", Tracked)
        runtime.start()
        a = AgentId("t", "a")
        Tracked.fail_activate = 1
        results = await asyncio.gather(*(runtime.send_message(Ping(1), a) for _ in range(3)), return_exceptions=True)
        assert all(isinstance(r, LookupError) for r in results)
        with pytest.raises(LookupError):
            Tracked.fail_activate = 1
            await runtime.try_get_underlying_agent_instance(a)
        await runtime.close()

    virtual(main())


def test_a_failed_activation_for_a_published_message_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await Tracked.register(runtime, "t", Tracked)
        await runtime.add_subscription(TypeSubscription("topic", "t"))
        runtime.start()
        Tracked.fail_activate = 1
        await runtime.publish_message(Ping(1), TopicId("topic", "a"))
        await runtime.stop_when_idle()
        assert AgentId("t", "a") not in runtime._instantiated_agents
        await runtime.close()

    with caplog.at_level(logging.ERROR, logger="actorgen_core"):
        virtual(main())
    assert any("cannot activate a" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_errors_in_on_deactivate_are_logged_and_the_agent_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await Tracked.register(runtime, "t", Tracked)
        await runtime.register_factory("idle", Tracked, idle_timeout=60)
        runtime.start()
        Tracked.fail_deactivate = True
        await runtime.send_message(Ping(1), AgentId("idle", "a"))
        await asyncio.sleep(61 + 5)
        assert AgentId("idle", "a") not in runtime._instantiated_agents
        await runtime.send_message(Ping(1), AgentId("t", "b"))
        await runtime.close()  # logged too, not raised

    with caplog.at_level(logging.ERROR, logger="actorgen_core"):
        virtual(main())
    messages = [r.getMessage() for r in caplog.records]
    assert any("on_deactivate of idle/a raised" in m for m in messages)
    assert any("on_deactivate of t/b raised while the runtime closed" in m for m in messages)


def test_registered_instances_are_activated_when_registered_and_never_idle_deactivated() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(idle_timeout=10)
        agent = Tracked()
        await agent.register_instance(runtime, AgentId("inst", "x"))
        assert Tracked.journal == ["activate x"]
        runtime.start()
        await runtime.send_message(Ping(1), AgentId("inst", "x"))
        await asyncio.sleep(HOUR)
        assert runtime._instantiated_agents[AgentId("inst", "x")] is agent
        await runtime.close()

    virtual(main())


def test_a_failed_instance_activation_registers_nothing() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        Tracked.fail_activate = 1
        with pytest.raises(LookupError):
            await runtime.register_agent_instance(Tracked(), AgentId("inst", "x"))
        assert "inst" not in runtime._factories
        await runtime.register_agent_instance(Tracked(), AgentId("inst", "x"))

    virtual(main())


# ---------------------------------------------------------------------------- idle deactivation


def test_off_by_default_agents_live_until_close() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await Tracked.register(runtime, "t", Tracked)
        await Plain.register(runtime, "p", Plain)
        runtime.start()
        await runtime.send_message(Ping(1), AgentId("t", "a"))
        await runtime.send_message(Ping(1), AgentId("p", "a"))
        await asyncio.sleep(1000 * HOUR)
        assert await runtime.send_message(Ping(1), AgentId("t", "a")) == Pong(2)
        assert await runtime.send_message(Ping(1), AgentId("p", "a")) == Pong(2)
        assert Tracked.made == 1 and Plain.made == 1
        assert all(activation.life is None for activation in runtime._activations.values())
        assert runtime._lifecycle.policies == {}
        await runtime.close()

    virtual(main())


@pytest.mark.parametrize("agent_class", [Tracked, Plain])
def test_an_idle_agent_is_deactivated_after_its_timeout_and_made_again(agent_class: type[Any]) -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await agent_class.register(runtime, "t", agent_class)
        await runtime.register_factory("forever", agent_class, idle_timeout=math.inf)
        await runtime.register_factory("idle", agent_class, idle_timeout=HOUR)
        runtime.start()
        a = AgentId("idle", "a")
        await runtime.send_message(Ping(1), a)
        await asyncio.sleep(HOUR - 1)
        assert await runtime.send_message(Ping(1), a) == Pong(2)  # still the same agent: used again
        start = now()
        while a in runtime._instantiated_agents:
            await asyncio.sleep(1)
        idle_for = now() - start
        assert HOUR <= idle_for <= HOUR * 1.1
        assert await runtime.send_message(Ping(1), a) == Pong(1)  # a new one (no state store)
        assert agent_class.made == 2
        await runtime.close()

    virtual(main())


def test_agents_without_hooks_or_state_are_still_made_synchronously() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(idle_timeout=60)
        await Plain.register(runtime, "p", Plain)
        await Tracked.register(runtime, "t", Tracked)
        plain = runtime._activation(AgentId("p", "a"))
        assert plain.created is None and not plain.busy and plain.life is not None
        hooked = runtime._activation(AgentId("t", "a"))
        assert hooked.created is not None  # on_activate runs in a task of its own
        runtime.start()
        await runtime.send_message(Ping(1), AgentId("t", "a"))
        await runtime.close()

    virtual(main())


def test_the_runtime_default_applies_to_every_factory_type_and_inf_opts_out() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(idle_timeout=60)
        await Plain.register(runtime, "p", Plain)
        await runtime.register_factory("keep", Plain, idle_timeout=math.inf)
        runtime.start()
        await runtime.send_message(Ping(1), AgentId("p", "a"))
        await runtime.send_message(Ping(1), AgentId("keep", "a"))
        await asyncio.sleep(HOUR)
        assert set(runtime._instantiated_agents) == {AgentId("keep", "a")}
        await runtime.close()

    virtual(main())


def test_never_deactivated_mid_turn() -> None:
    async def main() -> None:
        runtime, a = await started_tracked(default_timeout=None)
        await runtime.send_message(Hold(HOUR), a)  # an hour-long turn, 60 s timeout
        assert Tracked.journal == ["activate a", "hold a", "held a"]
        ended = now()
        while a in runtime._instantiated_agents:
            await asyncio.sleep(1)
        assert now() - ended >= 60
        assert Tracked.journal[-1] == "deactivate a"
        await runtime.close()

    virtual(main())


def test_never_deactivated_with_messages_waiting() -> None:
    async def main() -> None:
        runtime, a = await started_tracked(default_timeout=None)
        # One long turn, then queued messages arriving over two hours.
        hold = asyncio.ensure_future(runtime.send_message(Hold(2 * HOUR), a))
        waiting = []
        for _ in range(10):
            await asyncio.sleep(600)
            waiting.append(asyncio.ensure_future(runtime.send_message(Ping(1), a)))
        await hold
        assert [r.n for r in await asyncio.gather(*waiting)] == list(range(1, 11))
        assert Tracked.made == 1
        assert "deactivate a" not in Tracked.journal
        await runtime.close()

    virtual(main())


def test_not_deactivated_while_an_interleaved_handler_runs() -> None:
    async def main() -> None:
        runtime, a = await started_tracked(default_timeout=None)
        await runtime.send_message(Ping(1), a)
        status = asyncio.ensure_future(runtime.send_message(Status(), a))  # runs 2 h beside
        await asyncio.sleep(HOUR)
        assert a in runtime._instantiated_agents
        assert await status == Pong(1)
        while a in runtime._instantiated_agents:
            await asyncio.sleep(1)
        assert Tracked.made == 1
        await runtime.close()

    virtual(main())


def test_messages_that_arrive_during_deactivation_go_to_the_next_activation_in_order() -> None:
    async def main() -> None:
        runtime, a = await started_tracked(default_timeout=None)
        await runtime.send_message(Ping(1), a)
        Tracked.deactivate_seconds = 30
        while "deactivate a" not in Tracked.journal:
            await asyncio.sleep(1)
        # on_deactivate is running (for 30 s): these wait, then reach a new activation.
        during = [asyncio.ensure_future(runtime.send_message(Ping(1), a)) for _ in range(3)]
        metadata = asyncio.ensure_future(runtime.agent_metadata(a))
        assert [r.n for r in await asyncio.gather(*during)] == [1, 2, 3]
        assert (await metadata)["key"] == "a"
        assert Tracked.made == 2
        assert Tracked.journal[1:4] == ["ping a 1", "deactivate a", "activate a"]
        await runtime.close()

    virtual(main())


def test_interleaved_messages_wait_for_activation_and_skip_a_deactivating_instance() -> None:
    async def main() -> None:
        runtime, a = await started_tracked(default_timeout=None)
        Tracked.activate_seconds = 10
        assert await runtime.send_message(Status(quick=True), a) == Pong(0)
        assert Tracked.journal == ["activate a", "activated a", "status a"]  # not before on_activate ended
        Tracked.activate_seconds = 0
        Tracked.deactivate_seconds = 30
        while "deactivate a" not in Tracked.journal:
            await asyncio.sleep(1)
        await runtime.send_message(Status(quick=True), a)
        assert Tracked.journal[-3:] == ["deactivate a", "activate a", "status a"]  # the new instance answered
        assert Tracked.made == 2
        await runtime.close()

    virtual(main())


def test_pending_creation_is_never_deactivated() -> None:
    async def main() -> None:
        made = 0

        async def slow_factory() -> Plain:
            nonlocal made
            made += 1
            await asyncio.sleep(HOUR)
            return Plain()

        runtime = SingleThreadedAgentRuntime(default_timeout=None)
        await runtime.register_factory("slow", slow_factory, idle_timeout=60)
        runtime.start()
        results = await asyncio.gather(*(runtime.send_message(Ping(1), AgentId("slow", "a")) for _ in range(3)))
        assert [r.n for r in results] == [1, 2, 3]
        assert made == 1
        await runtime.close()

    virtual(main())


def test_a_stopped_runtime_deactivates_nothing_and_messages_sent_meanwhile_reach_the_agent() -> None:
    async def main() -> None:
        runtime, a = await started_tracked(default_timeout=None)
        await runtime.send_message(Ping(1), a)
        await runtime.stop()
        later = asyncio.ensure_future(runtime.send_message(Ping(1), a))  # waits for start()
        await asyncio.sleep(HOUR)
        assert a in runtime._instantiated_agents
        runtime.start()
        assert await later == Pong(2)
        await runtime.close()

    virtual(main())


def test_agent_metadata_save_state_and_underlying_instance_reactivate() -> None:
    async def main() -> None:
        runtime, a = await started_tracked()
        await runtime.send_message(Ping(1), a)
        await asyncio.sleep(HOUR)
        assert a not in runtime._instantiated_agents
        assert (await runtime.agent_metadata(a))["type"] == "t"
        assert Tracked.made == 2
        await asyncio.sleep(HOUR)
        agent = await runtime.try_get_underlying_agent_instance(a, Tracked)
        assert agent.count == 0 and Tracked.made == 3
        assert runtime._instantiated_agents[a] is agent
        await asyncio.sleep(HOUR)  # activated without a message: still collected when idle
        assert a not in runtime._instantiated_agents
        await runtime.close()

    virtual(main())


def test_the_tables_shrink_after_a_crowd_was_deactivated() -> None:
    import sys

    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await runtime.register_factory("p", Plain, idle_timeout=60)
        runtime.start()
        empty = sys.getsizeof(dict(runtime._activations))
        for i in range(6000):
            await runtime.send_message(Ping(1), AgentId("p", str(i)))
        crowded = sys.getsizeof(runtime._activations)
        await asyncio.sleep(30)
        await runtime.send_message(Ping(1), AgentId("p", "stays"))
        await asyncio.sleep(45)  # the crowd is gone, "stays" is not
        assert set(runtime._activations) == {AgentId("p", "stays")}
        assert sys.getsizeof(runtime._activations) < crowded / 10
        assert sys.getsizeof(runtime._lifecycle.policies["p"].live) < crowded / 10
        assert empty < crowded
        await runtime.close()

    virtual(main())


# ---------------------------------------------------------------------------- the live cap


def test_the_cap_deactivates_the_least_recently_used() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await runtime.register_factory("t", Tracked, max_live=2)
        runtime.start()

        def live() -> set[str]:
            return {agent_id.key for agent_id in runtime._instantiated_agents}

        await runtime.send_message(Ping(1), AgentId("t", "a"))
        await runtime.send_message(Ping(1), AgentId("t", "b"))
        await runtime.send_message(Ping(1), AgentId("t", "c"))
        assert live() == {"b", "c"}
        await runtime.send_message(Ping(1), AgentId("t", "b"))  # b is now the most recent
        await runtime.send_message(Ping(1), AgentId("t", "d"))
        assert live() == {"b", "d"}
        assert Tracked.journal.count("deactivate a") == 1 and Tracked.journal.count("deactivate c") == 1
        await runtime.close()

    virtual(main())


def test_the_cap_skips_busy_agents() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(default_timeout=None)
        await runtime.register_factory("t", Tracked, max_live=1)
        runtime.start()
        a, b = AgentId("t", "a"), AgentId("t", "b")
        hold = asyncio.ensure_future(runtime.send_message(Hold(60), a))
        await asyncio.sleep(1)
        assert await runtime.send_message(Ping(1), b) == Pong(1)
        assert await hold == Pong(0)  # a finished its turn: the cap was exceeded meanwhile
        assert "deactivate a" not in Tracked.journal
        await runtime.send_message(Ping(1), AgentId("t", "c"))
        assert set(runtime._instantiated_agents) == {AgentId("t", "c")}
        await runtime.close()

    virtual(main())


def test_bad_lifecycle_options_are_refused() -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="idle_timeout"):
            SingleThreadedAgentRuntime(idle_timeout=0)
        runtime = SingleThreadedAgentRuntime()
        with pytest.raises(ValueError, match="max_live"):
            await runtime.register_factory("t", Plain, max_live=0)
        with pytest.raises(ValueError, match="no state_store"):
            await runtime.register_factory("t", Plain, persistent=True)
        assert "t" not in runtime._factories

    virtual(main())


def test_many_agents_are_collected_in_few_sweeps() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await runtime.register_factory("p", Plain, idle_timeout=60)
        runtime.start()
        for i in range(2000):
            await runtime.send_message(Ping(1), AgentId("p", str(i)))
            if i % 100 == 0:
                await asyncio.sleep(0.01)
        await asyncio.sleep(120)
        assert runtime._instantiated_agents == {}
        assert not runtime._lifecycle.policies["p"].live
        assert runtime._lifecycle.policies["p"].timer is None  # nothing left: no timer
        await runtime.close()

    virtual(main())


# ---------------------------------------------------------------------------- deactivation on request


def test_deactivate_agent_drops_an_agent_of_a_type_that_did_not_opt_in() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(default_timeout=None)
        await Tracked.register(runtime, "t", Tracked)
        runtime.start()
        a, b = AgentId("t", "a"), AgentId("t", "b")
        await runtime.send_message(Ping(3), a)
        await runtime.deactivate_agent(a)
        assert a not in runtime._instantiated_agents and Tracked.journal[-1] == "deactivate a"
        await runtime.deactivate_agent(a)  # not live: nothing to do
        assert await runtime.send_message(Ping(1), a) == Pong(1)  # made again (no store: fresh)
        # Busy: it goes once its turn and its mailbox are done.
        hold = asyncio.ensure_future(runtime.send_message(Hold(60), b))
        await asyncio.sleep(1)
        queued = asyncio.ensure_future(runtime.send_message(Ping(1), b))
        gone = asyncio.ensure_future(runtime.deactivate_agent(b))
        await asyncio.sleep(30)
        assert not gone.done()
        await gone
        assert (await hold, await queued) == (Pong(0), Pong(1))
        assert Tracked.journal[-2:] == ["ping b 1", "deactivate b"]
        assert b not in runtime._instantiated_agents
        await runtime.close()

    virtual(main())


def test_an_agent_can_ask_to_leave_memory_after_its_turn() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await Tracked.register(runtime, "t", Tracked)
        runtime.start()
        a = AgentId("t", "a")
        await runtime.send_message(Ping(1), a)
        await runtime.send_message(Leave(), a)
        await asyncio.sleep(0)
        assert Tracked.journal[-2:] == ["leave a", "deactivate a"]
        assert a not in runtime._instantiated_agents
        await runtime.close()

    virtual(main())


def test_registered_instances_cannot_be_deactivated() -> None:
    async def main() -> None:
        runtime = SingleThreadedAgentRuntime()
        await runtime.register_agent_instance(Plain(), AgentId("inst", "x"))
        with pytest.raises(ValueError, match="registered instance"):
            await runtime.deactivate_agent(AgentId("inst", "x"))

    virtual(main())
