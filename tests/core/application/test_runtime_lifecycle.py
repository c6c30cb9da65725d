"""Registration, lazy creation, start/stop, state and lookups of SingleThreadedAgentRuntime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from actorgen_core import (
    AgentId,
    AgentType,
    BaseAgent,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)

from .runtime_helpers import Echo, Event, Ping, Pong


class Counter(RoutedAgent):
    created: ClassVar[int] = 0
    closed: ClassVar[list[str]] = []

    def __init__(self) -> None:
        super().__init__("counts")
        type(self).created += 1
        self.count = 0

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
        self.count += message.n
        return Pong(self.count)

    @message_handler
    async def on_event(self, message: Event, ctx: MessageContext) -> None:
        self.count += 1

    async def save_state(self) -> Mapping[str, Any]:
        return {"count": self.count}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.count = int(state["count"])

    async def close(self) -> None:
        type(self).closed.append(str(self.id))


@pytest.fixture(autouse=True)
def _reset() -> None:
    Counter.created = 0
    Counter.closed = []


async def test_agents_are_created_lazily_once_per_key() -> None:
    runtime = SingleThreadedAgentRuntime()
    agent_type = await Counter.register(runtime, "counter", Counter)
    assert agent_type == AgentType("counter")
    assert Counter.created == 0
    runtime.start()
    assert await runtime.send_message(Ping(2), AgentId("counter", "a")) == Pong(2)
    assert await runtime.send_message(Ping(3), AgentId("counter", "a")) == Pong(5)
    assert await runtime.send_message(Ping(1), AgentId("counter", "b")) == Pong(1)
    assert Counter.created == 2
    await runtime.stop_when_idle()


async def test_async_factory_runs_once_even_under_concurrent_first_use() -> None:
    calls = 0

    async def factory() -> Counter:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return Counter()

    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("counter", factory, expected_class=Counter)
    runtime.start()
    results = await asyncio.gather(*(runtime.send_message(Ping(1), AgentId("counter", "k")) for _ in range(5)))
    assert calls == 1
    assert sorted(r.n for r in results) == [1, 2, 3, 4, 5]
    await runtime.stop_when_idle()


async def test_register_factory_rejects_bad_input_and_duplicates() -> None:
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("ok", Counter)
    with pytest.raises(ValueError, match="already exists"):
        await runtime.register_factory("ok", Counter)
    with pytest.raises(ValueError, match="agent type"):
        await runtime.register_factory("bad type", Counter)
    with pytest.raises(TypeError, match="callable"):
        await runtime.register_factory("notcallable", 42)  # type: ignore[arg-type]


async def test_register_agent_instance_rules() -> None:
    class Plain(BaseAgent):
        def __init__(self) -> None:
            super().__init__("plain")

        async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
            return f"{self.id.key}:{message}"

    runtime = SingleThreadedAgentRuntime()
    a = Plain()
    await runtime.register_agent_instance(a, AgentId("plain", "a"))
    assert a.id == AgentId("plain", "a") and a.runtime is runtime
    with pytest.raises(ValueError, match="already exists"):
        await runtime.register_agent_instance(Plain(), AgentId("plain", "a"))
    await runtime.register_agent_instance(Plain(), AgentId("plain", "b"))
    with pytest.raises(ValueError, match="same object type"):
        await runtime.register_agent_instance(Counter(), AgentId("plain", "c"))
    await runtime.register_factory("fact", Counter)
    with pytest.raises(ValueError, match="factor"):
        await runtime.register_agent_instance(Counter(), AgentId("fact", "x"))
    with pytest.raises(ValueError, match="already exists"):
        await runtime.register_factory("plain", Counter)
    runtime.start()
    assert await runtime.send_message("hi", AgentId("plain", "b")) == "b:hi"
    from actorgen_core.exceptions import UndeliverableException

    with pytest.raises(UndeliverableException, match="only registered instances"):
        await runtime.send_message("hi", AgentId("plain", "zzz"))
    await runtime.stop_when_idle()


async def test_messages_sent_before_start_are_delivered_in_order_after_start() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Counter.register(runtime, "counter", Counter)
    await runtime.add_subscription(TypeSubscription("t", "counter"))
    first = asyncio.ensure_future(runtime.send_message(Ping(10), AgentId("counter", "s")))
    await asyncio.sleep(0)
    await runtime.publish_message(Event(), TopicId("t", "s"))
    second = asyncio.ensure_future(runtime.send_message(Ping(0), AgentId("counter", "s")))
    await asyncio.sleep(0.01)
    assert not first.done()
    assert runtime.unprocessed_messages_count == 3
    runtime.start()
    assert await asyncio.wait_for(first, 1) == Pong(10)
    assert await asyncio.wait_for(second, 1) == Pong(11)  # the event came in between
    await runtime.stop_when_idle()


async def test_process_next_steps_one_message_without_start() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Counter.register(runtime, "counter", Counter)
    await runtime.add_subscription(TypeSubscription("t", "counter"))
    await runtime.publish_message(Event(), TopicId("t", "s"))
    await runtime.publish_message(Event(), TopicId("t", "s"))
    assert runtime.unprocessed_messages_count == 2
    await runtime.process_next()
    assert runtime.unprocessed_messages_count == 1
    agent = await runtime.try_get_underlying_agent_instance(AgentId("counter", "s"), Counter)
    assert agent.count == 1


async def test_start_stop_errors_and_restart() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Echo.register(runtime, "echo", Echo)
    with pytest.raises(RuntimeError, match="not started"):
        await runtime.stop()
    with pytest.raises(RuntimeError, match="not started"):
        await runtime.stop_when_idle()
    runtime.start()
    with pytest.raises(RuntimeError, match="already started"):
        runtime.start()
    await runtime.stop_when_idle()
    runtime.start()
    assert await runtime.send_message(Ping(1), AgentId("echo", "x")) == Pong(2)
    await runtime.stop()


def test_start_needs_a_running_event_loop() -> None:
    with pytest.raises(RuntimeError):
        SingleThreadedAgentRuntime().start()


async def test_stop_when_condition() -> None:
    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    flag = False

    async def later() -> None:
        nonlocal flag
        await asyncio.sleep(0.05)
        flag = True

    task = asyncio.ensure_future(later())
    await asyncio.wait_for(runtime.stop_when(lambda: flag), 2)
    assert flag
    await task
    with pytest.raises(RuntimeError, match="not started"):
        await runtime.stop()


async def test_close_closes_every_agent() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Counter.register(runtime, "counter", Counter)
    runtime.start()
    await runtime.send_message(Ping(1), AgentId("counter", "a"))
    await runtime.send_message(Ping(1), AgentId("counter", "b"))
    await runtime.close()
    assert Counter.closed == ["counter/a", "counter/b"]


async def test_save_and_load_state(caplog: pytest.LogCaptureFixture) -> None:
    runtime = SingleThreadedAgentRuntime()
    await Counter.register(runtime, "counter", Counter)
    runtime.start()
    await runtime.send_message(Ping(4), AgentId("counter", "a"))
    await runtime.send_message(Ping(7), AgentId("counter", "b/c"))
    state = await runtime.save_state()
    assert state == {"counter/a": {"count": 4}, "counter/b/c": {"count": 7}}
    assert await runtime.agent_save_state(AgentId("counter", "a")) == {"count": 4}
    await runtime.stop_when_idle()

    fresh = SingleThreadedAgentRuntime()
    await Counter.register(fresh, "counter", Counter)
    with caplog.at_level(logging.WARNING, logger="actorgen_core"):
        await fresh.load_state({**state, "ghost/x": {"count": 1}})
    assert any("ghost" in r.getMessage() for r in caplog.records)
    fresh.start()
    assert await fresh.send_message(Ping(1), AgentId("counter", "b/c")) == Pong(8)
    await fresh.agent_load_state(AgentId("counter", "a"), {"count": 100})
    assert await fresh.send_message(Ping(1), AgentId("counter", "a")) == Pong(101)
    await fresh.stop_when_idle()


async def test_lookups() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Counter.register(runtime, "counter", Counter)
    assert await runtime.get("counter") == AgentId("counter", "default")
    assert Counter.created == 0
    assert await runtime.get("counter", "k2", lazy=False) == AgentId("counter", "k2")
    assert Counter.created == 1
    assert await runtime.get(AgentId("counter", "k3")) == AgentId("counter", "k3")
    with pytest.raises(LookupError):
        await runtime.get("nope", lazy=False)
    with pytest.raises(ValueError):
        await runtime.get("bad type")
    metadata = await runtime.agent_metadata(AgentId("counter", "k2"))
    assert metadata == {"type": "counter", "key": "k2", "description": "counts"}
    with pytest.raises(TypeError, match="not of type Echo"):
        await runtime.try_get_underlying_agent_instance(AgentId("counter", "k2"), Echo)
    with pytest.raises(LookupError):
        await runtime.try_get_underlying_agent_instance(AgentId("nope", "k"))


async def test_subscriptions_can_be_added_and_removed_while_running() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Counter.register(runtime, "counter", Counter)
    runtime.start()
    sub = TypeSubscription("t", "counter")
    await runtime.add_subscription(sub)
    await runtime.publish_message(Event(), TopicId("t", "s"))
    await runtime.remove_subscription(sub.id)
    await runtime.publish_message(Event(), TopicId("t", "s"))
    with pytest.raises(LookupError):
        await runtime.remove_subscription(sub.id)
    with pytest.raises(ValueError):  # autogen code catches ValueError here
        await runtime.remove_subscription(sub.id)
    await runtime.stop_when_idle()
    agent = await runtime.try_get_underlying_agent_instance(AgentId("counter", "s"), Counter)
    assert agent.count == 1


async def test_wrong_argument_types_are_refused() -> None:
    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    with pytest.raises(TypeError, match="AgentId"):
        await runtime.send_message(Ping(), "echo/default")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="TopicId"):
        await runtime.publish_message(Event(), "t/s")  # type: ignore[arg-type]
    await runtime.stop()


async def test_any_handler_takes_what_no_specific_handler_takes() -> None:
    class Catchall(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("catch-all")

        @message_handler
        async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
            return Pong(-1)

        @message_handler
        async def on_anything(self, message: Any, ctx: MessageContext) -> Any:
            return f"any:{type(message).__name__}"

    runtime = SingleThreadedAgentRuntime()
    await Catchall.register(runtime, "catchall", Catchall)
    runtime.start()
    assert await runtime.send_message(Ping(), AgentId("catchall", "k")) == Pong(-1)
    assert await runtime.send_message(Event("x"), AgentId("catchall", "k")) == "any:Event"
    assert await runtime.send_message(42, AgentId("catchall", "k")) == "any:int"
    await runtime.stop_when_idle()


async def test_process_next_delivers_a_request_sent_before_start() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Counter.register(runtime, "counter", Counter)
    call = asyncio.ensure_future(runtime.send_message(Ping(5), AgentId("counter", "k")))
    await asyncio.sleep(0)
    assert runtime.unprocessed_messages_count == 1
    await runtime.process_next()
    assert await asyncio.wait_for(call, 1) == Pong(5)


class _Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


class _MoneySerializer:
    """A hand-written serializer for a plain (non-dataclass) class."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @property
    def data_content_type(self) -> str:
        return "application/json"

    @property
    def type_name(self) -> str:
        return "_Money"

    def serialize(self, message: _Money) -> bytes:
        return f'{{"{self.prefix}": {message.cents}}}'.encode()

    def deserialize(self, payload: bytes) -> _Money:
        import json

        return _Money(next(iter(json.loads(payload).values())))


async def test_add_message_serializer_registers_single_and_many_and_later_wins() -> None:
    from actorgen_core import try_get_known_serializers_for_type

    runtime = SingleThreadedAgentRuntime()
    registry = runtime._serialization_registry
    assert not registry.is_registered("_Money", "application/json")
    runtime.add_message_serializer(_MoneySerializer("cents"))
    assert registry.serialize(_Money(5), type_name="_Money", data_content_type="application/json") == b'{"cents": 5}'
    runtime.add_message_serializer([_MoneySerializer("amount"), *try_get_known_serializers_for_type(Ping)])
    assert registry.serialize(_Money(5), type_name="_Money", data_content_type="application/json") == b'{"amount": 5}'
    assert registry.is_registered("Ping", "application/json")
    back = registry.deserialize(b'{"amount": 7}', type_name="_Money", data_content_type="application/json")
    assert isinstance(back, _Money) and back.cents == 7
    runtime.add_message_serializer([])  # nothing to add is not an error
    with pytest.raises(ValueError, match="Nope"):
        registry.serialize(object(), type_name="Nope", data_content_type="application/json")


async def test_close_cancels_handlers_still_running_before_closing_agents() -> None:
    events: list[str] = []

    class Worker(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("worker")

        @message_handler
        async def on_event(self, message: Event, ctx: MessageContext) -> None:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                events.append("handler cancelled")
                raise

        async def close(self) -> None:
            events.append("agent closed")

    runtime = SingleThreadedAgentRuntime()
    await Worker.register(runtime, "worker", Worker)
    await runtime.add_subscription(TypeSubscription("t", "worker"))
    runtime.start()
    await runtime.publish_message(Event(), TopicId("t", "s"))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(runtime.close(), 2)
    assert events == ["handler cancelled", "agent closed"]


async def test_message_ids_are_passed_through_or_unique() -> None:
    seen: list[tuple[str, bool]] = []

    class Recorder(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("recorder")

        @message_handler
        async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
            seen.append((ctx.message_id, ctx.is_rpc))
            return Pong()

        @message_handler
        async def on_event(self, message: Event, ctx: MessageContext) -> None:
            seen.append((ctx.message_id, ctx.is_rpc))

    runtime = SingleThreadedAgentRuntime()
    await Recorder.register(runtime, "rec", Recorder)
    await runtime.add_subscription(TypeSubscription("t", "rec"))
    runtime.start()
    await runtime.send_message(Ping(), AgentId("rec", "k"), message_id="req-1")
    await runtime.publish_message(Event(), TopicId("t", "k"), message_id="pub-1")
    for _ in range(3):
        await runtime.send_message(Ping(), AgentId("rec", "k"))
        await runtime.publish_message(Event(), TopicId("t", "k"))
    await runtime.stop_when_idle()
    assert seen[:2] == [("req-1", True), ("pub-1", False)]
    generated = [message_id for message_id, _ in seen[2:]]
    assert len(set(generated)) == 6 and all(isinstance(m, str) and m for m in generated)
