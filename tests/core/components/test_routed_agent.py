"""RoutedAgent and the @message_handler / @event / @rpc decorators.

Deliberate differences from autogen pinned here: dispatch falls back along the message's
MRO, an RPC nobody handles raises CantHandleException for the caller, and a failed
``register`` leaves nothing registered.
"""

# No `from __future__ import annotations`: several agents below are defined inside test
# functions, and their handler annotations must resolve without module globals.

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Optional, Union

import pytest
from google.protobuf import wrappers_pb2
from pydantic import BaseModel

from actorgen_core import (
    JSON_DATA_CONTENT_TYPE,
    PROTOBUF_DATA_CONTENT_TYPE,
    AgentId,
    CancellationToken,
    DefaultTopicId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    default_subscription,
    event,
    message_handler,
    rpc,
)
from actorgen_core.base._type_helpers import AnyType
from actorgen_core.exceptions import CantHandleException, UndeliverableException

ROOT_LOGGER = "actorgen_core"


@dataclass
class Req:
    text: str


@dataclass
class SubReq(Req):
    pass


@dataclass
class SubSubReq(SubReq):
    pass


@dataclass
class Other:
    n: int


@dataclass
class Resp:
    text: str


@dataclass
class SubResp(Resp):
    pass


class PydResp(BaseModel):
    value: int


def ctx_for(is_rpc: bool) -> MessageContext:
    return MessageContext(
        sender=None,
        topic_id=None if is_rpc else TopicId("t", "s"),
        is_rpc=is_rpc,
        cancellation_token=CancellationToken(),
        message_id="m",
    )


@asynccontextmanager
async def running(
    *agents: tuple[type[RoutedAgent], str], ignore_unhandled_exceptions: bool = True
) -> AsyncIterator[SingleThreadedAgentRuntime]:
    """A started runtime with each (class, type) registered through ``cls.register``."""
    runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=ignore_unhandled_exceptions)
    for cls, agent_type in agents:
        await cls.register(runtime, agent_type, cls)
    runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop_when_idle()


# ---------------------------------------------------------------------------- decoration


def test_decorators_bare_and_called_expose_routing_facts() -> None:
    class Agent(RoutedAgent):
        @message_handler
        async def bare(self, message: Req, ctx: MessageContext) -> Resp:
            return Resp(message.text)

        @message_handler()
        async def called(self, message: Other, ctx: MessageContext) -> None:
            return None

        @event
        async def bare_event(self, message: Other, ctx: MessageContext) -> None:
            return None

        @event(strict=False)
        async def called_event(self, message: Req, ctx: MessageContext) -> None:
            return None

        @rpc
        async def bare_rpc(self, message: Req | Other, ctx: MessageContext) -> Resp | None:
            return None

        @rpc(match=lambda m, c: True)
        async def called_rpc(self, message: Req, ctx: MessageContext) -> Any:
            return None

    for name in ("bare", "called", "bare_event", "called_event", "bare_rpc", "called_rpc"):
        handler = getattr(Agent, name)
        assert handler.is_message_handler is True, name
        assert callable(handler.router), name
    assert Agent.bare.target_types == [Req]
    assert Agent.bare.produces_types == [Resp]
    assert Agent.called.produces_types == [type(None)]
    assert Agent.bare_rpc.target_types == [Req, Other]
    assert Agent.bare_rpc.produces_types == [Resp, type(None)]
    assert Agent.called_rpc.produces_types == [AnyType]
    assert Agent.bare.__name__ == "bare"
    assert Agent.bare.__wrapped__.__name__ == "bare"


def test_union_spellings_and_optional_targets() -> None:
    class Agent(RoutedAgent):
        @message_handler
        async def old_union(self, message: Union[Req, Other], ctx: MessageContext) -> None:  # noqa: UP007
            return None

        @message_handler
        async def optional(self, message: Optional[Req], ctx: MessageContext) -> None:  # noqa: UP045
            return None

    assert Agent.old_union.target_types == [Req, Other]
    assert Agent.optional.target_types == [Req, type(None)]


def test_routers_of_each_kind() -> None:
    class Agent(RoutedAgent):
        @message_handler
        async def any_kind(self, message: Req, ctx: MessageContext) -> None:
            return None

        @event
        async def events_only(self, message: Req, ctx: MessageContext) -> None:
            return None

        @rpc
        async def rpcs_only(self, message: Req, ctx: MessageContext) -> None:
            return None

        @rpc(match=lambda m, c: m.text == "yes")
        async def matched_rpc(self, message: Req, ctx: MessageContext) -> None:
            return None

    msg = Req("yes")
    assert Agent.any_kind.router(msg, ctx_for(True)) and Agent.any_kind.router(msg, ctx_for(False))
    assert Agent.events_only.router(msg, ctx_for(False)) and not Agent.events_only.router(msg, ctx_for(True))
    assert Agent.rpcs_only.router(msg, ctx_for(True)) and not Agent.rpcs_only.router(msg, ctx_for(False))
    assert Agent.matched_rpc.router(msg, ctx_for(True))
    assert not Agent.matched_rpc.router(Req("no"), ctx_for(True))
    assert not Agent.matched_rpc.router(msg, ctx_for(False))


@pytest.mark.parametrize("decorator", [message_handler, event, rpc])
def test_missing_message_parameter_fails_at_class_creation(decorator: Any) -> None:
    with pytest.raises(AssertionError, match="message"):

        class Agent(RoutedAgent):
            @decorator
            async def handle(self, msg: Req, ctx: MessageContext) -> None:
                return None


@pytest.mark.parametrize("decorator", [message_handler, event, rpc])
def test_unannotated_message_parameter_fails_at_class_creation(decorator: Any) -> None:
    with pytest.raises(AssertionError, match="message"):

        class Agent(RoutedAgent):
            @decorator
            async def handle(self, message, ctx: MessageContext) -> None:  # type: ignore[no-untyped-def]
                return None


@pytest.mark.parametrize("decorator", [message_handler, event, rpc])
def test_missing_return_annotation_fails_at_class_creation(decorator: Any) -> None:
    with pytest.raises(AssertionError, match="return annotation"):

        class Agent(RoutedAgent):
            @decorator
            async def handle(self, message: Req, ctx: MessageContext):  # type: ignore[no-untyped-def]
                return None


def test_called_decorator_validates_too() -> None:
    with pytest.raises(AssertionError):

        class Agent(RoutedAgent):
            @rpc(strict=False)
            async def handle(self, message: Req, ctx: MessageContext):  # type: ignore[no-untyped-def]
                return None


# ---------------------------------------------------------------------------- dispatch


class Router(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("routes by type")

    @rpc
    async def on_req(self, message: Req, ctx: MessageContext) -> str:
        return f"req:{type(message).__name__}"

    @rpc
    async def on_sub_req(self, message: SubReq, ctx: MessageContext) -> str:
        return f"subreq:{type(message).__name__}"

    @rpc
    async def on_other(self, message: Other, ctx: MessageContext) -> int:
        return message.n * 2


async def test_routing_by_exact_type_then_along_the_mro() -> None:
    async with running((Router, "router")) as runtime:
        target = AgentId("router", "k")
        assert await runtime.send_message(Req("x"), target) == "req:Req"
        assert await runtime.send_message(SubReq("x"), target) == "subreq:SubReq"
        # Not handled itself: the nearest handled base class wins (autogen would drop it).
        assert await runtime.send_message(SubSubReq("x"), target) == "subreq:SubSubReq"
        assert await runtime.send_message(Other(21), target) == 42


async def test_union_handler_receives_each_member_type() -> None:
    class Agent(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("union")

        @rpc
        async def handle(self, message: Req | Other, ctx: MessageContext) -> str:
            return type(message).__name__

    async with running((Agent, "union")) as runtime:
        assert await runtime.send_message(Req("a"), AgentId("union", "k")) == "Req"
        assert await runtime.send_message(Other(1), AgentId("union", "k")) == "Other"
        with pytest.raises(CantHandleException):
            await runtime.send_message(Resp("a"), AgentId("union", "k"))


class Matcher(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("several handlers for one type")

    # Names chosen so that alphabetical order (the documented tie-break) differs from
    # definition order.
    @rpc(match=lambda m, c: m.text.startswith("b"))
    async def z_bees(self, message: Req, ctx: MessageContext) -> str:
        return "z_bees"

    @rpc(match=lambda m, c: m.text.startswith("a"))
    async def b_ants(self, message: Req, ctx: MessageContext) -> str:
        return "b_ants"

    @rpc(match=lambda m, c: "a" in m.text)
    async def c_contains_a(self, message: Req, ctx: MessageContext) -> str:
        return "c_contains_a"


async def test_several_handlers_for_one_type_are_chosen_by_match() -> None:
    async with running((Matcher, "matcher")) as runtime:
        target = AgentId("matcher", "k")
        assert await runtime.send_message(Req("bee"), target) == "z_bees"
        # Both b_ants and c_contains_a match: the first by method name wins, once.
        assert await runtime.send_message(Req("ant"), target) == "b_ants"
        assert await runtime.send_message(Req("cat"), target) == "c_contains_a"
        with pytest.raises(CantHandleException, match="Req"):
            await runtime.send_message(Req("zzz"), target)


class EventsAndRpcs(RoutedAgent):
    log: list[str] = []  # noqa: RUF012 - shared record, reset by each test

    def __init__(self) -> None:
        super().__init__("splits events and requests")

    @event
    async def on_req_event(self, message: Req, ctx: MessageContext) -> None:
        EventsAndRpcs.log.append(f"event:{message.text}")

    @rpc
    async def on_other_rpc(self, message: Other, ctx: MessageContext) -> str:
        EventsAndRpcs.log.append(f"rpc:{message.n}")
        return "ok"

    @message_handler
    async def on_resp_any(self, message: Resp, ctx: MessageContext) -> None:
        EventsAndRpcs.log.append(f"any:{message.text}:{'rpc' if ctx.is_rpc else 'event'}")


async def test_event_handlers_ignore_rpcs_and_rpc_handlers_ignore_events(caplog: pytest.LogCaptureFixture) -> None:
    EventsAndRpcs.log = []
    caplog.set_level(logging.INFO, logger=ROOT_LOGGER)
    async with running((EventsAndRpcs, "split")) as runtime:
        target = AgentId("split", "k")
        topic = TopicId("split:t", "k")  # the direct-message prefix subscription delivers it
        await runtime.publish_message(Req("published"), topic)
        with pytest.raises(CantHandleException):
            await runtime.send_message(Req("sent"), target)
        assert await runtime.send_message(Other(1), target) == "ok"
        await runtime.publish_message(Other(2), topic)
        await runtime.send_message(Resp("sent"), target)
        await runtime.publish_message(Resp("published"), topic)
    assert EventsAndRpcs.log == ["event:published", "rpc:1", "any:sent:rpc", "any:published:event"]
    unhandled = [r for r in caplog.records if r.name == ROOT_LOGGER and "Unhandled message" in r.getMessage()]
    assert len(unhandled) == 1
    assert unhandled[0].levelno == logging.INFO
    assert "Other(n=2)" in unhandled[0].getMessage()


async def test_rpc_without_matching_handler_raises_cant_handle_for_the_caller() -> None:
    async with running((Router, "router")) as runtime:
        with pytest.raises(CantHandleException, match="Resp") as info:
            await runtime.send_message(Resp("nobody handles me"), AgentId("router", "k"))
    assert "router/k" in str(info.value)


async def test_unhandled_event_is_logged_at_info_and_nothing_fails(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ROOT_LOGGER)
    async with running((Router, "router"), ignore_unhandled_exceptions=False) as runtime:
        await runtime.publish_message(Resp("stray"), TopicId("router:x", "k"))
    messages = [r.getMessage() for r in caplog.records if r.name == ROOT_LOGGER and r.levelno == logging.INFO]
    assert any("Unhandled message" in m and "stray" in m for m in messages)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_on_unhandled_message_can_be_overridden() -> None:
    class Fallback(Router):
        async def on_unhandled_message(self, message: Any, ctx: MessageContext) -> None:  # type: ignore[override]
            return f"fallback:{type(message).__name__}"  # type: ignore[return-value]

    async with running((Fallback, "fallback")) as runtime:
        assert await runtime.send_message(Resp("x"), AgentId("fallback", "k")) == "fallback:Resp"
        assert await runtime.send_message(Req("x"), AgentId("fallback", "k")) == "req:Req"


async def test_handler_context_and_exceptions_reach_the_caller() -> None:
    class Agent(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("raises")

        @rpc
        async def handle(self, message: Req, ctx: MessageContext) -> str:
            if message.text == "boom":
                raise KeyError("boom")
            return f"{ctx.is_rpc} {ctx.sender} {ctx.topic_id} {self.id}"

    async with running((Agent, "raiser")) as runtime:
        target = AgentId("raiser", "k")
        assert await runtime.send_message(Req("x"), target, sender=AgentId("caller", "c")) == (
            "True caller/c None raiser/k"
        )
        with pytest.raises(KeyError, match="boom"):
            await runtime.send_message(Req("boom"), target)


def test_handlers_are_inherited_and_overridable() -> None:
    class Child(Router):
        @rpc
        async def on_other(self, message: Other, ctx: MessageContext) -> int:
            return -1

    class NotAHandlerAnyMore(Router):
        async def on_other(self, message: Other, ctx: MessageContext) -> int:  # type: ignore[override]
            return 0

    assert set(Child._handler_map) == {Req, SubReq, Other}
    assert Child._handler_map[Other][0] is Child.__dict__["on_other"]
    assert set(NotAHandlerAnyMore._handler_map) == {Req, SubReq}


async def test_decorated_method_is_callable_on_the_instance() -> None:
    class Agent(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("direct")

        @rpc
        async def handle(self, message: Req, ctx: MessageContext) -> str:
            return f"{self.__class__.__name__}:{message.text}"

    agent = Agent()
    assert await agent.handle(Req("x"), ctx_for(True)) == "Agent:x"


# ---------------------------------------------------------------------------- strict checks


class ResultChecks(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("returns what it is told to")

    @rpc
    async def strict_resp(self, message: Req, ctx: MessageContext) -> Resp:
        if message.text == "subclass":
            return SubResp("sub")
        if message.text == "wrong":
            return "not a Resp"  # type: ignore[return-value]
        if message.text == "none":
            return None  # type: ignore[return-value]
        return Resp("fine")

    @rpc(strict=False)
    async def lenient(self, message: Other, ctx: MessageContext) -> Resp:
        return "not a Resp either"  # type: ignore[return-value]

    @rpc
    async def anything(self, message: Resp, ctx: MessageContext) -> Any:
        return 123

    @rpc
    async def optional(self, message: SubResp, ctx: MessageContext) -> Resp | None:
        return None if message.text == "none" else Resp("r")


async def test_strict_rpc_result_check(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=ROOT_LOGGER)
    async with running((ResultChecks, "checks")) as runtime:
        target = AgentId("checks", "k")
        assert await runtime.send_message(Req("ok"), target) == Resp("fine")
        assert await runtime.send_message(Req("subclass"), target) == SubResp("sub")  # isinstance, not exact
        with pytest.raises(ValueError, match="strict_resp returned str, declared Resp"):
            await runtime.send_message(Req("wrong"), target)
        # None is checked like any result when the declared type does not admit it.
        with pytest.raises(ValueError, match="strict_resp returned NoneType, declared Resp"):
            await runtime.send_message(Req("none"), target)
        assert await runtime.send_message(Resp("x"), target) == 123
        assert await runtime.send_message(SubResp("none"), target) is None
        assert await runtime.send_message(SubResp("some"), target) == Resp("r")
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        # Non-strict: the value goes through, with a warning.
        assert await runtime.send_message(Other(1), target) == "not a Resp either"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "lenient returned str" in warnings[0].getMessage()


async def test_strict_wrapper_checks_the_message_type_when_called_directly(caplog: pytest.LogCaptureFixture) -> None:
    class Agent(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("direct")

        @rpc
        async def strict(self, message: Req, ctx: MessageContext) -> str:
            return "strict ran"

        @rpc(strict=False)
        async def lenient(self, message: Req, ctx: MessageContext) -> str:
            return "lenient ran"

    agent = Agent()
    with pytest.raises(CantHandleException, match="got Other"):
        await Agent.strict(agent, Other(1), ctx_for(True))
    assert await Agent.strict(agent, SubReq("x"), ctx_for(True)) == "strict ran"
    caplog.set_level(logging.WARNING, logger=ROOT_LOGGER)
    assert await Agent.lenient(agent, Other(1), ctx_for(True)) == "lenient ran"
    assert any("unexpected type Other" in r.getMessage() for r in caplog.records)


class ValueReturningEvents(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("events that return values")

    @event
    async def strict_event(self, message: Req, ctx: MessageContext) -> str:
        return "a value"

    @event(strict=False)
    async def lenient_event(self, message: Other, ctx: MessageContext) -> str:
        return "ignored"


async def test_strict_event_returning_a_value_is_an_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=ROOT_LOGGER)
    agent = ValueReturningEvents()
    with pytest.raises(ValueError, match="returned a value"):
        await agent.on_message_impl(Req("x"), ctx_for(False))
    assert await agent.on_message_impl(Other(1), ctx_for(False)) is None
    assert any("lenient_event returned a value" in r.getMessage() for r in caplog.records)

    # Published: logged at ERROR with the traceback; fatal when unhandled exceptions are not ignored.
    caplog.clear()
    runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=False)
    await ValueReturningEvents.register(runtime, "vre", ValueReturningEvents)
    runtime.start()
    await runtime.publish_message(Req("x"), TopicId("vre:x", "k"))
    with pytest.raises(ValueError, match="returned a value"):
        await runtime.stop_when_idle()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and errors[0].exc_info is not None


async def test_lenient_event_returning_a_value_is_only_a_warning() -> None:
    runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=False)
    await ValueReturningEvents.register(runtime, "vre", ValueReturningEvents)
    runtime.start()
    await runtime.publish_message(Other(1), TopicId("vre:x", "k"))
    await runtime.stop_when_idle()  # does not raise


# ---------------------------------------------------------------------------- register


class TakesStr(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("handles str")

    @rpc
    async def on_text(self, message: str, ctx: MessageContext) -> str:
        return message.upper()


async def test_register_without_serializer_fails_naming_the_type_and_registers_nothing() -> None:
    runtime = SingleThreadedAgentRuntime()
    with pytest.raises(ValueError, match=r"No serializers found for type str\b") as info:
        await TakesStr.register(runtime, "bad", TakesStr)
    assert "on_text" in str(info.value)  # names the handler ...
    assert "register_factory" in str(info.value)  # ... and how to get around it
    assert runtime._subscription_manager.subscriptions == []
    runtime.start()
    try:
        with pytest.raises(UndeliverableException):
            await runtime.send_message(Req("x"), AgentId("bad", "k"))
    finally:
        await runtime.stop()
    # The type name is still free.
    await runtime.register_factory("bad", TakesStr)


@default_subscription
class TakesAny(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("handles Any")

    @rpc
    async def on_req(self, message: Req, ctx: MessageContext) -> str:
        return "specific"

    @message_handler
    async def on_anything(self, message: Any, ctx: MessageContext) -> Any:
        return f"any:{type(message).__name__}"


async def test_any_handler_registers_and_takes_what_no_specific_handler_takes() -> None:
    """Deliberate difference: autogen refuses to register it and would never call it."""
    assert TakesAny.on_anything.target_types == [AnyType]
    async with running((TakesAny, "anyagent")) as runtime:
        target = AgentId("anyagent", "k")
        assert await runtime.send_message(Req("x"), target) == "specific"
        assert await runtime.send_message(SubReq("x"), target) == "specific"  # the MRO beats Any
        assert await runtime.send_message(Other(1), target) == "any:Other"
        assert await runtime.send_message("plain text", target) == "any:str"
        assert await runtime.send_message(None, target) == "any:NoneType"


async def test_register_factory_bypasses_the_serializer_requirement() -> None:
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("text", TakesStr)
    runtime.start()
    try:
        assert await runtime.send_message("hello", AgentId("text", "k")) == "HELLO"
    finally:
        await runtime.stop_when_idle()


async def test_register_adds_request_and_response_serializers() -> None:
    class Agent(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("serializers")

        @rpc
        async def dataclass_resp(self, message: Req, ctx: MessageContext) -> Resp:
            return Resp("r")

        @rpc
        async def pydantic_resp(self, message: Other, ctx: MessageContext) -> PydResp | None:
            return None

        @rpc
        async def proto(self, message: wrappers_pb2.StringValue, ctx: MessageContext) -> wrappers_pb2.Int64Value:
            return wrappers_pb2.Int64Value(value=1)

        @rpc
        async def untyped_result(self, message: SubReq, ctx: MessageContext) -> str:
            return ""

    runtime = SingleThreadedAgentRuntime()
    registry = runtime._serialization_registry
    assert not registry.is_registered("Resp", JSON_DATA_CONTENT_TYPE)
    await Agent.register(runtime, "ser", Agent)
    for name in ("Req", "SubReq", "Other", "Resp", "PydResp"):
        assert registry.is_registered(name, JSON_DATA_CONTENT_TYPE), name
    assert registry.is_registered("google.protobuf.StringValue", PROTOBUF_DATA_CONTENT_TYPE)
    assert registry.is_registered("google.protobuf.Int64Value", PROTOBUF_DATA_CONTENT_TYPE)
    assert not registry.is_registered("str", JSON_DATA_CONTENT_TYPE)  # a result type needs no serializer


# ---------------------------------------------------------------------------- interleave


def test_interleave_flag_follows_handler_opt_in() -> None:
    class Agent(RoutedAgent):
        @rpc(interleave=True)
        async def status(self, message: Req, ctx: MessageContext) -> str:
            return "status"

        @event(interleave=True)
        async def ping(self, message: Other, ctx: MessageContext) -> None:
            return None

        @rpc(interleave=True)
        async def mixed_a(self, message: Resp, ctx: MessageContext) -> None:
            return None

        @event
        async def mixed_b(self, message: Resp, ctx: MessageContext) -> None:
            return None

        @rpc
        async def normal(self, message: SubReq, ctx: MessageContext) -> None:
            return None

    # A type interleaves only if every handler of it opted in.
    assert {t for t in (Req, Other, Resp, SubReq) if Agent._interleaves(t)} == {Req, Other}
    assert Agent.status.interleave is True
    assert Agent.normal.interleave is False
    assert not Router._has_interleaved_handlers

    class Child(Agent):
        @rpc
        async def status(self, message: Req, ctx: MessageContext) -> str:
            return "no longer interleaved"

    assert {t for t in (Req, Other) if Child._interleaves(t)} == {Other}


async def test_default_subscription_on_routed_agent_end_to_end() -> None:
    received: list[str] = []

    @default_subscription
    class Listener(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("listens")

        @event
        async def on_req(self, message: Req, ctx: MessageContext) -> None:
            received.append(f"{self.id}:{message.text}:{ctx.topic_id}")

    async with running((Listener, "listener")) as runtime:
        await runtime.publish_message(Req("hi"), DefaultTopicId())
    assert received == ["listener/default:hi:default/default"]
