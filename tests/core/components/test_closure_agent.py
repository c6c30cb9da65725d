"""ClosureAgent: an agent made of one async function."""

# No `from __future__ import annotations`: closures are defined inside the tests and their
# annotations are resolved at registration.

import warnings
from dataclasses import dataclass
from typing import Any

import pytest

from actorgen_core import (
    JSON_DATA_CONTENT_TYPE,
    AgentId,
    AgentInstantiationContext,
    ClosureAgent,
    ClosureContext,
    DefaultSubscription,
    DefaultTopicId,
    MessageContext,
    SingleThreadedAgentRuntime,
    Subscription,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
)
from actorgen_core.exceptions import CantHandleException


@dataclass
class Note:
    text: str


@dataclass
class LoudNote(Note):
    pass


@dataclass
class Other:
    n: int


async def test_register_closure_with_subscriptions_receives_publishes_in_order() -> None:
    received: list[tuple[str, str, str | None]] = []

    async def collect(agent: ClosureContext, message: Note, ctx: MessageContext) -> None:
        received.append((str(agent.id), message.text, str(ctx.topic_id)))

    runtime = SingleThreadedAgentRuntime()
    agent_type = await ClosureAgent.register_closure(
        runtime,
        "collector",
        collect,
        subscriptions=lambda: [DefaultSubscription(), TypeSubscription("news", "collector")],
    )
    assert agent_type.type == "collector"
    runtime.start()
    for text in ("one", "two", "three"):
        await runtime.publish_message(Note(text), DefaultTopicId())
    await runtime.publish_message(Note("n"), TopicId("news", "s1"))
    await runtime.stop_when_idle()
    assert received == [
        ("collector/default", "one", "default/default"),
        ("collector/default", "two", "default/default"),
        ("collector/default", "three", "default/default"),
        ("collector/s1", "n", "news/s1"),
    ]


async def test_register_closure_accepts_async_subscriptions_and_adds_the_direct_prefix() -> None:
    async def subscriptions() -> list[Subscription]:
        return [DefaultSubscription(topic_type="async")]

    async def noop(agent: ClosureContext, message: Note, ctx: MessageContext) -> None:
        return None

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "c", noop, subscriptions=subscriptions)
    await ClosureAgent.register_closure(runtime, "quiet", noop, skip_direct_message_subscription=True)
    routes = {
        (type(s).__name__, getattr(s, "topic_type", None) or getattr(s, "topic_type_prefix", None), s.agent_type)  # type: ignore[attr-defined]
        for s in runtime._subscription_manager.subscriptions
    }
    assert routes == {("DefaultSubscription", "async", "c"), ("TypePrefixSubscription", "c:", "c")}
    assert not any(
        isinstance(s, TypePrefixSubscription) and s.agent_type == "quiet"
        for s in runtime._subscription_manager.subscriptions
    )


async def test_closure_answers_rpcs_and_can_use_its_context() -> None:
    async def echo(agent: ClosureContext, message: Note, ctx: MessageContext) -> str:
        return f"{agent.id.key}:{message.text}:{ctx.is_rpc}"

    async def relay(agent: ClosureContext, message: Other, ctx: MessageContext) -> str:
        # The ClosureContext can talk to other agents, with itself as the sender.
        reply = await agent.send_message(Note(str(message.n)), AgentId("echo", "inner"))
        await agent.publish_message(Note("relayed"), TopicId("log", "x"))
        return f"relay got {reply}"

    logged: list[tuple[str, str | None]] = []

    async def log(agent: ClosureContext, message: Note, ctx: MessageContext) -> None:
        logged.append((message.text, str(ctx.sender)))

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "echo", echo)
    await ClosureAgent.register_closure(runtime, "relay", relay)
    await ClosureAgent.register_closure(runtime, "log", log, subscriptions=lambda: [TypeSubscription("log", "log")])
    runtime.start()
    try:
        assert await runtime.send_message(Note("hi"), AgentId("echo", "k")) == "k:hi:True"
        assert await runtime.send_message(Other(5), AgentId("relay", "r")) == "relay got inner:5:True"
    finally:
        await runtime.stop_when_idle()
    assert logged == [("relayed", "relay/r")]


async def test_closure_metadata_and_description() -> None:
    async def noop(agent: ClosureContext, message: Note, ctx: MessageContext) -> None:
        return None

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "described", noop, description="does nothing")
    assert await runtime.agent_metadata(AgentId("described", "k")) == {
        "type": "described",
        "key": "k",
        "description": "does nothing",
    }


# ---------------------------------------------------------------------------- unknown_type_policy


def _recording_closure(calls: list[Any]) -> Any:
    async def closure(agent: ClosureContext, message: Note, ctx: MessageContext) -> str:
        calls.append(message)
        return "called"

    return closure


async def test_policy_error_raises_cant_handle_for_the_caller() -> None:
    calls: list[Any] = []
    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "strict", _recording_closure(calls), unknown_type_policy="error")
    runtime.start()
    try:
        with pytest.raises(CantHandleException, match="expects Note, got Other"):
            await runtime.send_message(Other(1), AgentId("strict", "k"))
        assert await runtime.send_message(Note("ok"), AgentId("strict", "k")) == "called"
        assert await runtime.send_message(LoudNote("sub"), AgentId("strict", "k")) == "called"  # isinstance
    finally:
        await runtime.stop_when_idle()
    assert calls == [Note("ok"), LoudNote("sub")]


async def test_policy_error_on_publish_is_a_handler_error() -> None:
    runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=False)
    await ClosureAgent.register_closure(
        runtime,
        "strict",
        _recording_closure([]),
        unknown_type_policy="error",
        subscriptions=lambda: [DefaultSubscription()],
    )
    runtime.start()
    await runtime.publish_message(Other(1), DefaultTopicId())
    with pytest.raises(CantHandleException):
        await runtime.stop_when_idle()


async def test_policy_warn_warns_and_skips_the_closure() -> None:
    calls: list[Any] = []
    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(
        runtime, "warner", _recording_closure(calls), subscriptions=lambda: [DefaultSubscription()]
    )  # "warn" is the default
    runtime.start()
    try:
        with pytest.warns(UserWarning, match="expects Note, got Other"):
            await runtime.publish_message(Other(1), DefaultTopicId())
            await runtime.stop_when_idle()
    finally:
        if runtime._started:
            await runtime.stop()
    assert calls == []


async def test_a_request_the_closure_does_not_take_is_cant_handle_under_the_default_policy() -> None:
    calls: list[Any] = []
    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "warner", _recording_closure(calls))  # "warn" is the default
    runtime.start()
    try:
        with pytest.raises(CantHandleException, match="expects Note, got Other"):
            await runtime.send_message(Other(1), AgentId("warner", "k"))
    finally:
        await runtime.stop_when_idle()
    assert calls == []


async def test_policy_ignore_calls_the_closure_anyway() -> None:
    calls: list[Any] = []
    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "lax", _recording_closure(calls), unknown_type_policy="ignore")
    runtime.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert await runtime.send_message(Other(1), AgentId("lax", "k")) == "called"
    finally:
        await runtime.stop_when_idle()
    assert calls == [Other(1)]


@pytest.mark.parametrize("policy", ["error", "warn", "ignore"])
async def test_closure_annotated_any_receives_everything(policy: Any) -> None:
    """Deliberate difference: autogen never calls an `Any` closure under "warn"/"error"."""
    received: list[Any] = []

    async def anything(agent: ClosureContext, message: Any, ctx: MessageContext) -> None:
        received.append(message)

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(
        runtime, "any", anything, unknown_type_policy=policy, subscriptions=lambda: [DefaultSubscription()]
    )
    runtime.start()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await runtime.send_message(Note("n"), AgentId("any", "default"))
        await runtime.send_message("text", AgentId("any", "default"))
        await runtime.publish_message(Other(3), DefaultTopicId())
        await runtime.stop_when_idle()
    assert received == [Note("n"), "text", Other(3)]


async def test_unannotated_message_parameter_means_any() -> None:
    received: list[Any] = []

    async def untyped(agent, message, ctx) -> None:  # type: ignore[no-untyped-def]
        received.append(message)

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "untyped", untyped, unknown_type_policy="error")
    runtime.start()
    await runtime.send_message(Other(1), AgentId("untyped", "k"))
    await runtime.stop_when_idle()
    assert received == [Other(1)]


async def test_union_annotated_closure() -> None:
    async def either(agent: ClosureContext, message: Note | Other, ctx: MessageContext) -> str:
        return type(message).__name__

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "either", either, unknown_type_policy="error")
    runtime.start()
    try:
        assert await runtime.send_message(Note("x"), AgentId("either", "k")) == "Note"
        assert await runtime.send_message(Other(1), AgentId("either", "k")) == "Other"
        with pytest.raises(CantHandleException):
            await runtime.send_message("neither", AgentId("either", "k"))
    finally:
        await runtime.stop_when_idle()
    registry = runtime._serialization_registry
    assert registry.is_registered("Note", JSON_DATA_CONTENT_TYPE)
    assert registry.is_registered("Other", JSON_DATA_CONTENT_TYPE)


# ---------------------------------------------------------------------------- signature checks


async def test_closure_signature_is_checked_before_anything_is_registered() -> None:
    async def two_params(agent: ClosureContext, message: Note) -> None:
        return None

    async def no_return(agent: ClosureContext, message: Note, ctx: MessageContext):  # type: ignore[no-untyped-def]
        return None

    runtime = SingleThreadedAgentRuntime()
    with pytest.raises(AssertionError, match="exactly 3 parameters"):
        await ClosureAgent.register_closure(runtime, "bad", two_params)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="return annotation"):
        await ClosureAgent.register_closure(runtime, "bad", no_return)
    assert runtime._subscription_manager.subscriptions == []

    async def good(agent: ClosureContext, message: Note, ctx: MessageContext) -> None:
        return None

    await ClosureAgent.register_closure(runtime, "bad", good)  # the name is still free


async def test_failing_subscriptions_callback_leaves_nothing_registered() -> None:
    async def good(agent: ClosureContext, message: Note, ctx: MessageContext) -> None:
        return None

    def broken() -> list[Subscription]:
        raise RuntimeError("no subscriptions today")

    runtime = SingleThreadedAgentRuntime()
    with pytest.raises(RuntimeError, match="no subscriptions today"):
        await ClosureAgent.register_closure(runtime, "c", good, subscriptions=broken)
    assert runtime._subscription_manager.subscriptions == []
    await ClosureAgent.register_closure(runtime, "c", good, subscriptions=lambda: [DefaultSubscription()])


# ---------------------------------------------------------------------------- construction and state


def test_construction_outside_an_instantiation_context_raises() -> None:
    async def noop(agent: ClosureContext, message: Note, ctx: MessageContext) -> None:
        return None

    with pytest.raises(RuntimeError, match="within the context of an AgentRuntime"):
        ClosureAgent("d", noop)


def test_construction_inside_an_instantiation_context() -> None:
    async def noop(agent: ClosureContext, message: Note, ctx: MessageContext) -> None:
        return None

    runtime = SingleThreadedAgentRuntime()
    with AgentInstantiationContext.populate_context((runtime, AgentId("c", "k"))):
        agent = ClosureAgent("described", noop)
    assert agent.id == AgentId("c", "k")
    assert agent.runtime is runtime
    assert agent.metadata["description"] == "described"


async def test_save_and_load_state_are_empty_and_silent() -> None:
    async def noop(agent: ClosureContext, message: Note, ctx: MessageContext) -> None:
        return None

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "stateless", noop)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert await runtime.agent_save_state(AgentId("stateless", "k")) == {}
        await runtime.agent_load_state(AgentId("stateless", "k"), {"ignored": True})
        assert await runtime.save_state() == {"stateless/k": {}}
