"""Every request has a deadline; nested requests inherit what is left of it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from actorgen_core import (
    AgentId,
    CancellationToken,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    message_handler,
)
from actorgen_core.exceptions import RequestTimeoutError

from .runtime_helpers import Done, Echo, Ping, Pong, Slow


class Hanger(RoutedAgent):
    """Waits until cancelled; records what its token saw."""

    token_cancelled: bool | None = None
    handler_cancelled = False

    def __init__(self) -> None:
        super().__init__("hangs")

    @message_handler
    async def on_slow(self, message: Slow, ctx: MessageContext) -> Done:
        type(self).token_cancelled = None
        type(self).handler_cancelled = False
        try:
            await asyncio.sleep(message.seconds)
        except asyncio.CancelledError:
            type(self).handler_cancelled = True
            type(self).token_cancelled = ctx.cancellation_token.is_cancelled()
            raise
        return Done(message.tag)


async def test_timeout_raises_a_timeout_error_and_cancels_the_callee() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Hanger.register(runtime, "hanger", Hanger)
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    t0 = time.monotonic()
    with pytest.raises(RequestTimeoutError) as info:
        await runtime.send_message(Slow(30), AgentId("hanger", "k"), timeout=0.1)
    assert isinstance(info.value, TimeoutError)
    assert "hanger/k" in str(info.value)
    assert time.monotonic() - t0 < 2
    await asyncio.sleep(0.01)
    assert Hanger.handler_cancelled
    assert Hanger.token_cancelled is True
    # the runtime and the same agent stay usable
    assert await runtime.send_message(Ping(1), AgentId("echo", "k")) == Pong(2)
    assert await runtime.send_message(Slow(0, "again"), AgentId("hanger", "k"), timeout=1) == Done("again")
    await runtime.stop_when_idle()


async def test_runtime_default_timeout_applies_when_the_caller_gives_none() -> None:
    runtime = SingleThreadedAgentRuntime(default_timeout=0.1)
    await Hanger.register(runtime, "hanger", Hanger)
    runtime.start()
    with pytest.raises(TimeoutError):
        await runtime.send_message(Slow(30), AgentId("hanger", "k"))
    await runtime.stop_when_idle()


async def test_explicit_timeout_overrides_a_short_default() -> None:
    runtime = SingleThreadedAgentRuntime(default_timeout=0.05)
    await Hanger.register(runtime, "hanger", Hanger)
    runtime.start()
    assert await runtime.send_message(Slow(0.15, "ok"), AgentId("hanger", "k"), timeout=2) == Done("ok")
    await runtime.stop_when_idle()


async def test_default_timeout_none_waits_without_limit_and_bad_values_are_refused() -> None:
    with pytest.raises(ValueError, match="default_timeout"):
        SingleThreadedAgentRuntime(default_timeout=0)
    runtime = SingleThreadedAgentRuntime(default_timeout=None)
    await Hanger.register(runtime, "hanger", Hanger)
    runtime.start()
    assert await runtime.send_message(Slow(0.05, "x"), AgentId("hanger", "k")) == Done("x")
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="timeout"):
            await runtime.send_message(Slow(0), AgentId("hanger", "k"), timeout=bad)
    await runtime.stop_when_idle()


async def test_nested_request_inherits_the_remaining_deadline() -> None:
    @dataclass
    class Outer:
        pass

    outcome: list[str] = []

    class Middle(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("middle")

        @message_handler
        async def on_outer(self, message: Outer, ctx: MessageContext) -> Done:
            try:
                await asyncio.sleep(1)  # outlives the 0.1 s the caller gave us...
            except asyncio.CancelledError:
                pass  # ...and (badly) ignores being cancelled
            t0 = time.monotonic()
            try:
                # asks for 10 s, but the request being handled is already past its deadline
                await self.send_message(Ping(), AgentId("echo", "deep"), timeout=10)
                outcome.append("delivered")
            except RequestTimeoutError:
                outcome.append(f"refused after {time.monotonic() - t0:.3f}s")
            return Done()

    runtime = SingleThreadedAgentRuntime()
    await Middle.register(runtime, "middle", Middle)
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    with pytest.raises(TimeoutError):
        await runtime.send_message(Outer(), AgentId("middle", "m"), timeout=0.1)
    await runtime.stop_when_idle()
    assert len(outcome) == 1 and outcome[0].startswith("refused after 0.0"), outcome


async def test_nested_request_times_out_with_the_outer_budget() -> None:
    @dataclass
    class Outer:
        pass

    seen: list[BaseException] = []

    class Middle(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("middle")

        @message_handler
        async def on_outer(self, message: Outer, ctx: MessageContext) -> Done:
            try:
                return await self.send_message(Slow(30), AgentId("hanger", "deep"), timeout=10)
            except BaseException as e:
                seen.append(e)
                raise

    runtime = SingleThreadedAgentRuntime()
    await Middle.register(runtime, "middle", Middle)
    await Hanger.register(runtime, "hanger", Hanger)
    runtime.start()
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        await runtime.send_message(Outer(), AgentId("middle", "m"), timeout=0.2)
    assert time.monotonic() - t0 < 1.0
    await asyncio.sleep(0.05)
    assert Hanger.handler_cancelled
    assert seen, "the nested call must have ended too"
    await runtime.stop_when_idle()


async def test_request_expiring_in_a_mailbox_is_never_delivered() -> None:
    delivered: list[str] = []
    release = asyncio.Event()

    class Busy(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("busy")

        @message_handler
        async def on_slow(self, message: Slow, ctx: MessageContext) -> Done:
            delivered.append(message.tag)
            if message.tag == "blocker":
                await release.wait()
            return Done(message.tag)

    runtime = SingleThreadedAgentRuntime()
    await Busy.register(runtime, "busy", Busy)
    runtime.start()
    target = AgentId("busy", "k")
    blocker = asyncio.ensure_future(runtime.send_message(Slow(0, "blocker"), target, timeout=5))
    await asyncio.sleep(0.01)
    with pytest.raises(RequestTimeoutError):
        await runtime.send_message(Slow(0, "late"), target, timeout=0.05)
    release.set()
    assert await blocker == Done("blocker")
    assert await runtime.send_message(Slow(0, "after"), target) == Done("after")
    assert delivered == ["blocker", "after"]
    await runtime.stop_when_idle()


async def test_caller_cancellation_token_cancels_the_request_and_the_callee() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Hanger.register(runtime, "hanger", Hanger)
    runtime.start()
    token = CancellationToken()
    call = asyncio.ensure_future(runtime.send_message(Slow(30), AgentId("hanger", "k"), cancellation_token=token))
    await asyncio.sleep(0.02)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await asyncio.sleep(0.01)
    assert Hanger.handler_cancelled
    assert Hanger.token_cancelled is True
    # an already-cancelled token refuses to send at all
    with pytest.raises(asyncio.CancelledError):
        await runtime.send_message(Slow(0), AgentId("hanger", "k"), cancellation_token=token)
    await runtime.stop_when_idle()


async def test_timeout_of_a_nested_call_does_not_cancel_the_callers_own_token() -> None:
    @dataclass
    class Outer:
        pass

    class Middle(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("middle")

        @message_handler
        async def on_outer(self, message: Outer, ctx: MessageContext) -> Done:
            try:
                await self.send_message(
                    Slow(30), AgentId("hanger", "deep"), cancellation_token=ctx.cancellation_token, timeout=0.05
                )
            except TimeoutError:
                pass
            return Done(f"own token cancelled: {ctx.cancellation_token.is_cancelled()}")

    runtime = SingleThreadedAgentRuntime()
    await Middle.register(runtime, "middle", Middle)
    await Hanger.register(runtime, "hanger", Hanger)
    runtime.start()
    assert await runtime.send_message(Outer(), AgentId("middle", "m"), timeout=5) == Done("own token cancelled: False")
    await runtime.stop_when_idle()


async def test_handler_own_timeout_error_is_not_mistaken_for_the_deadline() -> None:
    class Raiser(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("raiser")

        @message_handler
        async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
            await asyncio.sleep(0)
            raise TimeoutError("upstream API timed out")

    runtime = SingleThreadedAgentRuntime()
    await Raiser.register(runtime, "raiser", Raiser)
    runtime.start()
    with pytest.raises(TimeoutError) as info:
        await runtime.send_message(Ping(), AgentId("raiser", "k"), timeout=5)
    assert not isinstance(info.value, RequestTimeoutError)
    assert str(info.value) == "upstream API timed out"
    await runtime.stop_when_idle()
