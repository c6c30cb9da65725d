"""Nothing fails silently: typed errors for callers, logged (or fatal) errors for events."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import pytest

from actorgen_core import (
    AgentId,
    DefaultInterventionHandler,
    DropMessage,
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
    MessageDroppedException,
    RuntimeStoppedError,
    UndeliverableException,
)

from .runtime_helpers import Done, Echo, Event, Ping, Pong, Slow


class Failing(RoutedAgent):
    error: BaseException = KeyError("bad key")

    def __init__(self) -> None:
        super().__init__("fails")

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
        if message.n % 2:
            await asyncio.sleep(0)  # fail after suspending too
        raise type(self).error

    @message_handler
    async def on_event(self, message: Event, ctx: MessageContext) -> None:
        if message.value == "wait":
            await asyncio.sleep(0)
        raise ValueError(f"event handler failed on {message.value}")


async def test_unknown_recipient_type_is_undeliverable_at_once() -> None:
    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    with pytest.raises(UndeliverableException, match="nope") as info:
        await runtime.send_message(Ping(), AgentId("nope", "default"))
    assert isinstance(info.value, AgentNotFoundError)
    assert isinstance(info.value, LookupError)
    await runtime.stop()


async def test_request_without_matching_handler_raises_cant_handle() -> None:
    @dataclass
    class Unknown:
        pass

    runtime = SingleThreadedAgentRuntime()
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    with pytest.raises(CantHandleException, match="Unknown"):
        await runtime.send_message(Unknown(), AgentId("echo", "k"))
    await runtime.stop_when_idle()


@pytest.mark.parametrize("n", [0, 1], ids=["immediate", "after-suspending"])
async def test_handler_error_reaches_the_caller_unchanged(n: int) -> None:
    runtime = SingleThreadedAgentRuntime()
    await Failing.register(runtime, "fails", Failing)
    runtime.start()
    with pytest.raises(KeyError) as info:
        await runtime.send_message(Ping(n), AgentId("fails", "k"))
    assert info.value is Failing.error
    await runtime.stop_when_idle()


async def test_factory_error_reaches_the_caller_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Echo:
        raise RuntimeError("cannot build")

    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("broken", broken)
    runtime.start()
    with caplog.at_level(logging.ERROR, logger="actorgen_core"):
        with pytest.raises(RuntimeError, match="cannot build"):
            await runtime.send_message(Ping(), AgentId("broken", "k"))
    assert any("broken/k" in r.getMessage() and r.exc_info for r in caplog.records)
    await runtime.stop()


async def test_expected_class_is_checked_when_the_agent_is_created() -> None:
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("wrong", Echo, expected_class=Failing)
    runtime.start()
    with pytest.raises(ValueError, match="expected Failing, got Echo"):
        await runtime.send_message(Ping(), AgentId("wrong", "k"))
    await runtime.stop()


@pytest.mark.parametrize("value", ["now", "wait"])
async def test_event_handler_error_is_logged_with_traceback(caplog: pytest.LogCaptureFixture, value: str) -> None:
    runtime = SingleThreadedAgentRuntime()
    await Failing.register(runtime, "fails", Failing)
    await runtime.add_subscription(TypeSubscription("t", "fails"))
    runtime.start()
    with caplog.at_level(logging.ERROR, logger="actorgen_core"):
        await runtime.publish_message(Event(value), TopicId("t", "s"))
        await runtime.stop_when_idle()
    records = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(records) == 1
    assert "fails/s" in records[0].getMessage()
    assert records[0].exc_info is not None
    assert f"event handler failed on {value}" in str(records[0].exc_info[1])


@pytest.mark.parametrize("value", ["now", "wait"])
async def test_event_handler_error_is_fatal_when_asked(value: str) -> None:
    runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=False)
    await Failing.register(runtime, "fails", Failing)
    await runtime.add_subscription(TypeSubscription("t", "fails"))
    runtime.start()
    await runtime.publish_message(Event(value), TopicId("t", "s"))
    with pytest.raises(ValueError, match=f"failed on {value}"):
        await asyncio.wait_for(runtime.stop_when_idle(), 2)


async def test_publish_reaches_subscribers_once_each_and_never_the_sender() -> None:
    received: list[tuple[str, str]] = []

    class Listener(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("listener")

        @message_handler
        async def on_event(self, message: Event, ctx: MessageContext) -> None:
            received.append((str(self.id), message.value))

    runtime = SingleThreadedAgentRuntime()
    await Listener.register(runtime, "listener", Listener)
    await Listener.register(runtime, "other", Listener)
    await runtime.add_subscription(TypeSubscription("t", "listener"))
    await runtime.add_subscription(TypeSubscription("t", "other"))
    from actorgen_core import TypePrefixSubscription

    await runtime.add_subscription(TypePrefixSubscription("t", "listener"))  # matches again: no duplicate
    runtime.start()
    await runtime.publish_message(Event("x"), TopicId("t", "s"), sender=AgentId("other", "s"))
    await runtime.stop_when_idle()
    assert received == [("listener/s", "x")]


class Tagger(DefaultInterventionHandler):
    def __init__(self, tag: str) -> None:
        self.tag = tag

    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        if isinstance(message, Slow):
            return Slow(message.seconds, message.tag + self.tag)
        return message

    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any:
        if isinstance(message, Done):
            return Done(message.tag + self.tag.lower())
        return message


async def test_intervention_handlers_chain_in_order() -> None:
    from .runtime_helpers import Sleeper

    runtime = SingleThreadedAgentRuntime(intervention_handlers=[Tagger("+A"), Tagger("+B")])
    await Sleeper.register(runtime, "sleeper", Sleeper)
    runtime.start()
    result = await runtime.send_message(Slow(0, "x"), AgentId("sleeper", "k"))
    assert result == Done("x+A+B+a+b")
    await runtime.stop_when_idle()


class Dropper(DefaultInterventionHandler):
    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        return DropMessage

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any:
        return DropMessage


async def test_dropped_messages_raise_for_callers_and_do_not_hang_stop_when_idle() -> None:
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[Dropper()])
    await Echo.register(runtime, "echo", Echo)
    await runtime.add_subscription(TypeSubscription("t", "echo"))
    runtime.start()
    with pytest.raises(MessageDroppedException, match="Dropper"):
        await runtime.send_message(Ping(), AgentId("echo", "k"))
    await runtime.publish_message(Event("x"), TopicId("t", "s"))
    await asyncio.wait_for(runtime.stop_when_idle(), 2)


async def test_intervention_error_reaches_the_caller() -> None:
    class Refuser(DefaultInterventionHandler):
        async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
            raise PermissionError("not allowed")

    runtime = SingleThreadedAgentRuntime(intervention_handlers=[Refuser()])
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    with pytest.raises(PermissionError, match="not allowed"):
        await runtime.send_message(Ping(), AgentId("echo", "k"))
    await asyncio.wait_for(runtime.stop_when_idle(), 2)


async def test_stop_fails_queued_requests_instead_of_leaving_callers_waiting() -> None:
    release = asyncio.Event()

    class Blocker(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("blocker")

        @message_handler
        async def on_slow(self, message: Slow, ctx: MessageContext) -> Done:
            await release.wait()
            return Done(message.tag)

    runtime = SingleThreadedAgentRuntime()
    await Blocker.register(runtime, "blocker", Blocker)
    runtime.start()
    first = asyncio.ensure_future(runtime.send_message(Slow(0, "first"), AgentId("blocker", "k")))
    await asyncio.sleep(0.01)
    queued = asyncio.ensure_future(runtime.send_message(Slow(0, "queued"), AgentId("blocker", "k")))
    await asyncio.sleep(0.01)
    await runtime.stop()
    with pytest.raises(RuntimeStoppedError):
        await asyncio.wait_for(queued, 1)
    release.set()
    assert await first == Done("first")  # a turn already running finishes


async def test_subscription_to_an_unregistered_type_is_logged_and_others_still_receive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    received: list[str] = []

    class Listener(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("listener")

        @message_handler
        async def on_event(self, message: Event, ctx: MessageContext) -> None:
            received.append(str(self.id))

    runtime = SingleThreadedAgentRuntime()
    await Listener.register(runtime, "listener", Listener)
    await runtime.add_subscription(TypeSubscription("t", "ghost"))  # no such agent type
    await runtime.add_subscription(TypeSubscription("t", "listener"))
    runtime.start()
    with caplog.at_level(logging.ERROR, logger="actorgen_core"):
        await runtime.publish_message(Event("x"), TopicId("t", "s"))
        await runtime.stop_when_idle()
    assert received == ["listener/s"]
    assert any("ghost/s" in r.getMessage() and "could not be created" in r.getMessage() for r in caplog.records)


async def test_on_publish_error_reaches_the_publisher_and_nothing_is_delivered() -> None:
    received: list[str] = []

    class Listener(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("listener")

        @message_handler
        async def on_event(self, message: Event, ctx: MessageContext) -> None:
            received.append(message.value)

    class Refuser(DefaultInterventionHandler):
        async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any:
            raise PermissionError("no publishing")

    runtime = SingleThreadedAgentRuntime(intervention_handlers=[Refuser()])
    await Listener.register(runtime, "listener", Listener)
    await runtime.add_subscription(TypeSubscription("t", "listener"))
    runtime.start()
    with pytest.raises(PermissionError, match="no publishing"):
        await runtime.publish_message(Event("x"), TopicId("t", "s"))
    await asyncio.wait_for(runtime.stop_when_idle(), 2)
    assert received == []


async def test_response_dropped_by_an_intervention_raises_for_the_caller() -> None:
    class DropResponses(DefaultInterventionHandler):
        async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any:
            return DropMessage

    runtime = SingleThreadedAgentRuntime(intervention_handlers=[DropResponses()])
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    with pytest.raises(MessageDroppedException, match="Response from echo/k"):
        await runtime.send_message(Ping(), AgentId("echo", "k"))
    await asyncio.wait_for(runtime.stop_when_idle(), 2)


async def test_intervention_returning_none_warns() -> None:
    class Forgetful(DefaultInterventionHandler):
        async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
            return None

    class AcceptsNone(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("accepts none")

        @message_handler
        async def on_any(self, message: Any, ctx: MessageContext) -> Any:
            return message

    runtime = SingleThreadedAgentRuntime(intervention_handlers=[Forgetful()])
    await AcceptsNone.register(runtime, "n", AcceptsNone)
    runtime.start()
    with pytest.warns(RuntimeWarning, match="Forgetful.on_send returned None"):
        assert await runtime.send_message(Ping(), AgentId("n", "k")) is None
    await runtime.stop_when_idle()


async def test_event_handler_error_is_fatal_for_stop_when_too() -> None:
    runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=False)
    await Failing.register(runtime, "fails", Failing)
    await runtime.add_subscription(TypeSubscription("t", "fails"))
    runtime.start()
    await runtime.publish_message(Event("now"), TopicId("t", "s"))
    with pytest.raises(ValueError, match="failed on now"):
        await asyncio.wait_for(runtime.stop_when(lambda: False), 2)
