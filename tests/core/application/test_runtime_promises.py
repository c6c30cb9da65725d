"""The runtime's promises under the conditions that used to break them: causal publish
order, deadlines that cover every wait, cancellation that stays with its caller, the
one-turn rule with reentrancy, deep ping-pong, tight loops, and a lifecycle that never
hangs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from actorgen_core import (
    AgentId,
    BaseAgent,
    DefaultInterventionHandler,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)
from actorgen_core.exceptions import (
    AgentNotFoundError,
    CantHandleException,
    RequestTimeoutError,
    RuntimeStoppedError,
)


@dataclass
class X:
    n: int = 0


@dataclass
class Y:
    n: int = 0


@dataclass
class Req:
    tag: str
    seconds: float = 0.0


@dataclass
class Note:
    tag: str


# ---------------------------------------------------------------------------- causal publish order


class Reactor(RoutedAgent):
    """On X, publishes Y to the same topic (as a group chat manager does); records all it sees."""

    seen: ClassVar[dict[str, list[str]]] = {}

    def __init__(self) -> None:
        super().__init__("reacts to X with Y")

    @message_handler
    async def on_x(self, message: X, ctx: MessageContext) -> None:
        type(self).seen.setdefault(self.id.type, []).append(f"X{message.n}")
        if self.id.type == "a":
            assert ctx.topic_id is not None
            await self.publish_message(Y(message.n), ctx.topic_id)

    @message_handler
    async def on_y(self, message: Y, ctx: MessageContext) -> None:
        type(self).seen.setdefault(self.id.type, []).append(f"Y{message.n}")


async def test_a_reaction_published_by_one_subscriber_reaches_the_others_after_the_original() -> None:
    Reactor.seen = {}
    runtime = SingleThreadedAgentRuntime()
    for agent_type in ("a", "b", "c"):  # topic "room" reaches a/s, b/s and c/s
        await Reactor.register(runtime, agent_type, Reactor, skip_class_subscriptions=True)
        await runtime.add_subscription(TypeSubscription("room", agent_type))
    runtime.start()
    await runtime.publish_message(X(1), TopicId("room", "s"))
    await runtime.publish_message(X(2), TopicId("room", "s"))
    await runtime.stop_when_idle()
    assert Reactor.seen["b"] == ["X1", "Y1", "X2", "Y2"]
    assert Reactor.seen["c"] == ["X1", "Y1", "X2", "Y2"]
    assert Reactor.seen["a"] == ["X1", "X2"]  # a publisher does not receive its own publish


# ---------------------------------------------------------------------------- deadlines cover every wait


class Plain(RoutedAgent):
    handled: ClassVar[list[str]] = []

    def __init__(self) -> None:
        super().__init__("answers")

    @message_handler
    async def on_req(self, message: Req, ctx: MessageContext) -> str:
        type(self).handled.append(message.tag)
        if message.seconds:
            await asyncio.sleep(message.seconds)
        return message.tag

    @message_handler
    async def on_note(self, message: Note, ctx: MessageContext) -> None:
        type(self).handled.append(message.tag)


def _slow_factory(seconds: float, created: list[int] | None = None) -> Any:
    async def factory() -> Plain:
        await asyncio.sleep(seconds)
        if created is not None:
            created.append(1)
        return Plain()

    return factory


async def test_the_deadline_covers_a_slow_async_factory() -> None:
    Plain.handled = []
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("slow", _slow_factory(1.0))
    runtime.start()
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        await runtime.send_message(Req("late"), AgentId("slow", "k"), timeout=0.2)
    assert time.monotonic() - started < 0.8
    await asyncio.sleep(1.0)  # the agent gets created; the expired request is never delivered
    assert Plain.handled == []
    await runtime.stop_when_idle()


async def test_cancelling_the_callers_token_while_the_factory_runs_cancels_the_request() -> None:
    from actorgen_core import CancellationToken

    Plain.handled = []
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("slow", _slow_factory(0.2))
    runtime.start()
    token = CancellationToken()
    call = asyncio.create_task(runtime.send_message(Req("cancelled"), AgentId("slow", "k"), cancellation_token=token))
    await asyncio.sleep(0.05)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await asyncio.sleep(0.3)
    assert Plain.handled == []
    assert runtime.unprocessed_messages_count == 0
    await runtime.stop_when_idle()


class SlowIntervention(DefaultInterventionHandler):
    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        await asyncio.sleep(2)
        return message


class SlowResponseIntervention(DefaultInterventionHandler):
    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any:
        await asyncio.sleep(2)
        return message


@pytest.mark.parametrize("intervention", [SlowIntervention, SlowResponseIntervention])
async def test_the_deadline_covers_a_slow_intervention_handler(intervention: type) -> None:
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[intervention()])
    await Plain.register(runtime, "plain", Plain)
    runtime.start()
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        await runtime.send_message(Req("x"), AgentId("plain", "k"), timeout=0.2)
    assert time.monotonic() - started < 1.0
    await runtime.close()


async def test_cancelling_the_callers_token_stops_a_slow_intervention() -> None:
    from actorgen_core import CancellationToken

    Plain.handled = []
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[SlowIntervention()])
    await Plain.register(runtime, "plain", Plain)
    runtime.start()
    token = CancellationToken()
    call = asyncio.create_task(runtime.send_message(Req("never"), AgentId("plain", "k"), cancellation_token=token))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert time.monotonic() - started < 1.0
    assert Plain.handled == []  # the request never reached the agent
    await runtime.close()


# ---------------------------------------------------------------------------- one caller's cancellation


async def test_cancelling_one_waiter_for_an_async_factory_leaves_the_other_its_result() -> None:
    Plain.handled = []
    created: list[int] = []
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("slow", _slow_factory(0.1, created))
    runtime.start()
    target = AgentId("slow", "k")
    first = asyncio.create_task(runtime.send_message(Req("first"), target))
    second = asyncio.create_task(runtime.send_message(Req("second"), target))
    await asyncio.sleep(0.02)
    first.cancel()
    assert await second == "second"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert created == [1] and Plain.handled == ["second"]
    await runtime.stop_when_idle()


# ---------------------------------------------------------------------------- arrival order while creating


async def test_messages_that_waited_for_an_async_factory_keep_their_arrival_order() -> None:
    Plain.handled = []
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("slow", _slow_factory(0.05))
    await runtime.add_subscription(TypeSubscription("notes", "slow"))
    runtime.start()
    target = AgentId("slow", "k")
    calls = [asyncio.create_task(runtime.send_message(Req("R1"), target))]
    await asyncio.sleep(0)
    await runtime.publish_message(Note("P2"), TopicId("notes", "k"))
    calls.append(asyncio.create_task(runtime.send_message(Req("R3"), target)))
    await asyncio.sleep(0.1)  # created meanwhile
    calls.append(asyncio.create_task(runtime.send_message(Req("R4"), target)))
    await asyncio.gather(*calls)
    await runtime.stop_when_idle()
    assert Plain.handled == ["R1", "P2", "R3", "R4"]


# ---------------------------------------------------------------------------- reentrancy within one turn


@dataclass
class Work:
    n: int


@dataclass
class Progress:
    n: int


class Boss(RoutedAgent):
    """Asks the helper for work; counts how many of its handlers run at once."""

    active = 0
    overlaps = 0
    log: ClassVar[list[str]] = []

    def __init__(self) -> None:
        super().__init__("boss")

    async def _enter(self, what: str) -> None:
        cls = type(self)
        cls.active += 1
        if cls.active > 1:
            # reentrant handlers may overlap the turn they entered, never a later one
            if not what.startswith("progress") or not cls.log or not cls.log[-1].startswith("work"):
                cls.overlaps += 1
        cls.log.append(what)

    @message_handler
    async def on_work(self, message: Work, ctx: MessageContext) -> str:
        await self._enter(f"work{message.n}")
        try:
            return await self.send_message(Work(message.n), AgentId("helper", "k"))
        finally:
            type(self).active -= 1
            type(self).log.append(f"end work{message.n}")

    @message_handler
    async def on_progress(self, message: Progress, ctx: MessageContext) -> None:
        await self._enter(f"progress{message.n}")
        try:
            await asyncio.sleep(0.05)  # still running when the turn it entered returns
        finally:
            type(self).active -= 1
            type(self).log.append(f"end progress{message.n}")


class Helper(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("helper")
        self.background: list[asyncio.Task[Any]] = []

    @message_handler
    async def on_work(self, message: Work, ctx: MessageContext) -> str:
        # Fire-and-forget progress report back to the boss, which is waiting on us.
        self.background.append(asyncio.create_task(self.send_message(Progress(message.n), AgentId("boss", "k"))))
        await asyncio.sleep(0)
        return f"done {message.n}"


async def test_a_request_from_a_task_left_behind_never_overlaps_a_later_turn() -> None:
    Boss.active, Boss.overlaps, Boss.log = 0, 0, []
    runtime = SingleThreadedAgentRuntime()
    await Boss.register(runtime, "boss", Boss)
    await Helper.register(runtime, "helper", Helper)
    runtime.start()
    boss = AgentId("boss", "k")
    results = await asyncio.gather(runtime.send_message(Work(1), boss), runtime.send_message(Work(2), boss))
    assert results == ["done 1", "done 2"]
    await runtime.stop_when_idle()
    helper = await runtime.try_get_underlying_agent_instance(AgentId("helper", "k"), Helper)
    await asyncio.gather(*helper.background)
    assert Boss.overlaps == 0, Boss.log
    # the second turn starts only after the progress report that entered the first has ended
    assert Boss.log.index("end progress1") < Boss.log.index("work2")


# ---------------------------------------------------------------------------- no RecursionError


@dataclass
class Ball:
    hops: int


class Player(RoutedAgent):
    received: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__("plays ping-pong with events")

    @message_handler(interleave=True)
    async def on_ball(self, message: Ball, ctx: MessageContext) -> None:
        type(self).received += 1
        if message.hops > 0:
            other = "b" if self.id.key == "a" else "a"
            await self.publish_message(Ball(message.hops - 1), TopicId("court", other))


async def test_interleaved_event_ping_pong_does_not_exhaust_the_stack() -> None:
    Player.received = 0
    runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=False)
    await Player.register(runtime, "p", Player)
    await runtime.add_subscription(TypeSubscription("court", "p"))
    runtime.start()
    await runtime.publish_message(Ball(3000), TopicId("court", "a"))
    await runtime.stop_when_idle()
    assert Player.received == 3001


# ---------------------------------------------------------------------------- tight loops yield


class PassThrough(DefaultInterventionHandler):
    pass


async def _ticks_during(work: Any) -> int:
    ticks = 0
    stop = False

    async def ticker() -> None:
        nonlocal ticks
        while not stop:
            ticks += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    ticks = 0
    await work()
    stop = True
    await other
    return ticks


@pytest.mark.parametrize("observed", ["intervention", "event log"])
async def test_a_tight_publish_loop_lets_other_tasks_run_when_observed(observed: str, caplog: Any) -> None:
    handlers = [PassThrough()] if observed == "intervention" else []
    runtime = SingleThreadedAgentRuntime(intervention_handlers=handlers)
    await Plain.register(runtime, "plain", Plain)
    await runtime.add_subscription(TypeSubscription("notes", "plain"))
    runtime.start()
    if observed == "event log":
        caplog.set_level(logging.INFO, logger="actorgen_core.events")

    async def publish_many() -> None:
        for i in range(3200):
            await runtime.publish_message(Note(str(i)), TopicId("notes", "k"))

    assert await _ticks_during(publish_many) >= 100
    await runtime.stop_when_idle()


async def test_a_tight_loop_of_failing_requests_lets_other_tasks_run() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Plain.register(runtime, "plain", Plain)
    runtime.start()

    async def fail_many() -> None:
        for _ in range(3200):
            with pytest.raises(CantHandleException):
                await runtime.send_message(X(), AgentId("plain", "k"))

    assert await _ticks_during(fail_many) >= 100
    await runtime.stop_when_idle()


# ---------------------------------------------------------------------------- lifecycle never hangs


async def test_two_concurrent_stop_when_idle_calls_both_return() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Plain.register(runtime, "plain", Plain)
    runtime.start()
    call = asyncio.create_task(runtime.send_message(Req("x", 0.05), AgentId("plain", "k")))
    await asyncio.sleep(0)
    async with asyncio.timeout(2):
        await asyncio.gather(runtime.stop_when_idle(), runtime.stop_when_idle())
    assert await call == "x"


class Stopper(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("stops the runtime")

    @message_handler
    async def on_note(self, message: Note, ctx: MessageContext) -> None:
        await asyncio.sleep(0.02)
        runtime = self.runtime
        assert isinstance(runtime, SingleThreadedAgentRuntime)
        await runtime.stop()


async def test_stop_when_idle_returns_if_an_agent_stopped_the_runtime_meanwhile() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Stopper.register(runtime, "stopper", Stopper)
    await runtime.add_subscription(TypeSubscription("notes", "stopper"))
    runtime.start()
    await runtime.publish_message(Note("stop"), TopicId("notes", "k"))
    async with asyncio.timeout(2):
        await runtime.stop_when_idle()


class CleansUp(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("sends a message while being cancelled")

    @message_handler
    async def on_req(self, message: Req, ctx: MessageContext) -> str:
        try:
            await asyncio.sleep(30)
        finally:
            await self.send_message(Note("bye"), AgentId("plain", "k"))
        return "never"


async def test_close_is_bounded_when_a_cancelled_handler_sends_in_finally() -> None:
    runtime = SingleThreadedAgentRuntime()  # default timeout: 60 s
    await CleansUp.register(runtime, "cleans", CleansUp)
    await Plain.register(runtime, "plain", Plain)
    runtime.start()
    call = asyncio.create_task(runtime.send_message(Req("x"), AgentId("cleans", "k")))
    await asyncio.sleep(0.02)
    started = time.monotonic()
    async with asyncio.timeout(5):
        await runtime.close()
    assert time.monotonic() - started < 2
    # the caller learns the runtime closed; its own task was not cancelled
    with pytest.raises(RuntimeStoppedError):
        await call


async def test_stop_with_a_full_mailbox_logs_one_summary_line(caplog: Any) -> None:
    runtime = SingleThreadedAgentRuntime()
    await Plain.register(runtime, "plain", Plain)
    await runtime.add_subscription(TypeSubscription("notes", "plain"))
    runtime.start()
    busy = asyncio.create_task(runtime.send_message(Req("busy", 0.2), AgentId("plain", "k")))
    await asyncio.sleep(0)
    for i in range(500):
        await runtime.publish_message(Note(str(i)), TopicId("notes", "k"))
    caplog.set_level(logging.WARNING, logger="actorgen_core")
    caplog.clear()
    await runtime.stop()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "500" in warnings[0].getMessage() and "Note" in warnings[0].getMessage()
    assert await busy == "busy"


async def test_an_expired_request_leaves_the_mailbox_at_once() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Plain.register(runtime, "plain", Plain)
    runtime.start()
    target = AgentId("plain", "k")
    busy = asyncio.create_task(runtime.send_message(Req("busy", 0.5), target))
    await asyncio.sleep(0)
    with pytest.raises(RequestTimeoutError):
        await runtime.send_message(Req("queued"), target, timeout=0.05)
    assert runtime.unprocessed_messages_count == 0
    assert await busy == "busy"
    await runtime.stop_when_idle()


# ---------------------------------------------------------------------------- interleave follows routing


@dataclass
class Query:
    text: str


@dataclass
class SubQuery(Query):
    pass


class Busy(RoutedAgent):
    """A long turn, plus interleaved handlers that must answer while it runs."""

    def __init__(self) -> None:
        super().__init__("busy")

    @message_handler
    async def on_req(self, message: Req, ctx: MessageContext) -> str:
        await asyncio.sleep(message.seconds)
        return message.tag

    @message_handler(interleave=True)
    async def on_query(self, message: Query, ctx: MessageContext) -> str:
        return f"status for {message.text}"


class BusyAny(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("busy, answers anything else beside")

    @message_handler
    async def on_req(self, message: Req, ctx: MessageContext) -> str:
        await asyncio.sleep(message.seconds)
        return message.tag

    @message_handler(interleave=True)
    async def on_anything(self, message: Any, ctx: MessageContext) -> str:
        return f"beside {type(message).__name__}"


@pytest.mark.parametrize(
    ("agent_class", "question", "answer"),
    [
        (Busy, SubQuery("sub"), "status for sub"),  # a subclass routed to the interleaved handler
        (BusyAny, Note("n"), "beside Note"),  # an interleaved handler annotated Any
    ],
)
async def test_interleaving_follows_routing(agent_class: type[RoutedAgent], question: Any, answer: str) -> None:
    runtime = SingleThreadedAgentRuntime()
    await agent_class.register(runtime, "busy", agent_class)
    runtime.start()
    target = AgentId("busy", "k")
    long_turn = asyncio.create_task(runtime.send_message(Req("long", 1.0), target))
    await asyncio.sleep(0.01)
    async with asyncio.timeout(0.5):  # answered beside the long turn, not after it
        assert await runtime.send_message(question, target) == answer
    long_turn.cancel()
    await runtime.close()


# ---------------------------------------------------------------------------- a failed call changes nothing


class BindFails(BaseAgent):
    def __init__(self) -> None:
        super().__init__("cannot be bound")

    async def bind_id_and_runtime(self, id: AgentId, runtime: Any) -> None:
        raise ValueError("refused")

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        return None


async def test_a_failed_register_agent_instance_leaves_no_type_registered() -> None:
    runtime = SingleThreadedAgentRuntime()
    with pytest.raises(ValueError, match="refused"):
        await runtime.register_agent_instance(BindFails(), AgentId("fails", "k"))
    runtime.start()
    with pytest.raises(AgentNotFoundError):
        await runtime.send_message(Req("x"), AgentId("fails", "k"))
    # and the type can be registered afresh
    await Plain.register(runtime, "fails", Plain)
    assert await runtime.send_message(Req("x"), AgentId("fails", "k")) == "x"
    await runtime.stop_when_idle()


class Stateful(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("has state")
        self.value = "initial"

    @message_handler
    async def on_note(self, message: Note, ctx: MessageContext) -> None:
        self.value = message.tag

    async def save_state(self) -> Mapping[str, Any]:
        return {"value": self.value}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        if not isinstance(state.get("value"), str):
            raise ValueError("value must be a string")
        self.value = state["value"]


@pytest.mark.parametrize(
    "bad_entry",
    [
        {"not an id": {"value": "x"}},  # no type/key
        {"st/b": "not a mapping"},
        {"st/b": {"value": 42}},  # the agent's own load_state refuses it
    ],
)
async def test_load_state_with_a_bad_entry_loads_nothing(bad_entry: dict[str, Any]) -> None:
    runtime = SingleThreadedAgentRuntime()
    await Stateful.register(runtime, "st", Stateful)
    runtime.start()
    state = {"st/a": {"value": "loaded"}, **bad_entry}
    with pytest.raises((ValueError, TypeError)):
        await runtime.load_state(state)
    agent = await runtime.try_get_underlying_agent_instance(AgentId("st", "a"), Stateful)
    assert agent.value == "initial"
    await runtime.stop_when_idle()


# ---------------------------------------------------------------------------- autogen_core habits


async def test_process_next_under_autogen_cores_private_name_steps_the_runtime() -> None:
    Plain.handled = []
    runtime = SingleThreadedAgentRuntime()
    await Plain.register(runtime, "plain", Plain)
    await runtime.add_subscription(TypeSubscription("notes", "plain"))
    await runtime.publish_message(Note("one"), TopicId("notes", "k"))
    await runtime.publish_message(Note("two"), TopicId("notes", "k"))
    await runtime._process_next()
    assert Plain.handled == ["one"]
    await runtime._process_next()
    assert Plain.handled == ["one", "two"]


async def test_an_unknown_key_of_an_instance_only_type_is_also_a_runtime_error() -> None:
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_agent_instance(Plain(), AgentId("only", "mine"))
    runtime.start()
    with pytest.raises(RuntimeError):  # autogen_core code catches RuntimeError here
        await runtime.send_message(Req("x"), AgentId("only", "other"))
    with pytest.raises(LookupError):
        await runtime.send_message(Req("x"), AgentId("nobody", "k"))
    await runtime.stop_when_idle()
