"""AgentProxy: a handle that forwards to the runtime on behalf of one AgentId."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from actorgen_core import (
    AgentId,
    AgentProxy,
    CancellationToken,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    rpc,
)
from actorgen_core.exceptions import AgentNotFoundError, CantHandleException


@dataclass
class Ask:
    text: str


@dataclass
class Wait:
    pass


class Counter(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("counts the questions it answers")
        self.count = 0
        self.last_ctx: MessageContext | None = None

    @rpc
    async def on_ask(self, message: Ask, ctx: MessageContext) -> str:
        self.count += 1
        self.last_ctx = ctx
        return f"{self.id.key}:{message.text}:{self.count}"

    @rpc
    async def on_wait(self, message: Wait, ctx: MessageContext) -> str:
        await asyncio.Event().wait()  # until cancelled
        return "never"

    async def save_state(self) -> Mapping[str, Any]:
        return {"count": self.count}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.count = state["count"]


async def make_runtime() -> SingleThreadedAgentRuntime:
    runtime = SingleThreadedAgentRuntime()
    await Counter.register(runtime, "counter", Counter)
    return runtime


async def test_id_and_metadata() -> None:
    runtime = await make_runtime()
    proxy = AgentProxy(AgentId("counter", "k"), runtime)
    assert proxy.id == AgentId("counter", "k")
    metadata = proxy.metadata
    assert inspect.isawaitable(metadata)
    assert await metadata == {"type": "counter", "key": "k", "description": "counts the questions it answers"}


async def test_send_message_goes_to_the_proxied_agent_with_the_sender() -> None:
    runtime = await make_runtime()
    runtime.start()
    proxy = AgentProxy(AgentId("counter", "k"), runtime)
    try:
        assert await proxy.send_message(Ask("a"), sender=AgentId("caller", "c")) == "k:a:1"
        assert await proxy.send_message(Ask("b"), sender=AgentId("caller", "c")) == "k:b:2"
        agent = await runtime.try_get_underlying_agent_instance(AgentId("counter", "k"), Counter)
        assert agent.last_ctx is not None
        assert agent.last_ctx.sender == AgentId("caller", "c")
        assert agent.last_ctx.is_rpc
        with pytest.raises(CantHandleException):
            await proxy.send_message("unhandled", sender=AgentId("caller", "c"))
    finally:
        await runtime.stop_when_idle()


async def test_send_message_passes_the_message_id() -> None:
    runtime = await make_runtime()
    runtime.start()
    proxy = AgentProxy(AgentId("counter", "k"), runtime)
    try:
        await proxy.send_message(Ask("a"), sender=AgentId("caller", "c"), message_id="m-1")
        agent = await runtime.try_get_underlying_agent_instance(AgentId("counter", "k"), Counter)
        assert agent.last_ctx is not None
        assert agent.last_ctx.message_id == "m-1"
    finally:
        await runtime.stop_when_idle()


def test_sender_is_keyword_only_and_required() -> None:
    parameters = inspect.signature(AgentProxy.send_message).parameters
    assert parameters["sender"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["sender"].default is inspect.Parameter.empty
    assert parameters["cancellation_token"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["message_id"].kind is inspect.Parameter.KEYWORD_ONLY


async def test_send_message_honours_the_cancellation_token() -> None:
    runtime = await make_runtime()
    runtime.start()
    proxy = AgentProxy(AgentId("counter", "k"), runtime)
    token = CancellationToken()
    try:
        request = asyncio.create_task(proxy.send_message(Wait(), sender=AgentId("c", "c"), cancellation_token=token))
        await asyncio.sleep(0.01)
        assert not request.done()
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
    finally:
        await runtime.stop_when_idle()


async def test_state_is_forwarded_to_the_runtime() -> None:
    runtime = await make_runtime()
    runtime.start()
    proxy = AgentProxy(AgentId("counter", "k"), runtime)
    try:
        await proxy.send_message(Ask("a"), sender=AgentId("c", "c"))
        await proxy.send_message(Ask("b"), sender=AgentId("c", "c"))
        assert await proxy.save_state() == {"count": 2}
        await proxy.load_state({"count": 10})
        assert await proxy.send_message(Ask("c"), sender=AgentId("c", "c")) == "k:c:11"
        other = AgentProxy(AgentId("counter", "other"), runtime)
        assert await other.save_state() == {"count": 0}  # a different agent
    finally:
        await runtime.stop_when_idle()


async def test_unknown_agent_type_errors_reach_the_proxy_user() -> None:
    runtime = await make_runtime()
    runtime.start()
    proxy = AgentProxy(AgentId("missing", "k"), runtime)
    try:
        with pytest.raises(AgentNotFoundError):
            await proxy.send_message(Ask("a"), sender=AgentId("c", "c"))
        with pytest.raises(LookupError):
            await proxy.metadata
        with pytest.raises(LookupError):
            await proxy.save_state()
    finally:
        await runtime.stop_when_idle()
