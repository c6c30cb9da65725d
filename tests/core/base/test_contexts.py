"""The three context helpers, and how BaseAgent learns its id and runtime from them."""

from __future__ import annotations

import asyncio
import contextvars
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from actorgen_core import (
    AgentId,
    AgentInstantiationContext,
    AgentType,
    BaseAgent,
    CancellationToken,
    MessageContext,
    MessageHandlerContext,
    SingleThreadedAgentRuntime,
    SubscriptionInstantiationContext,
)

STATIC_CLASSES = [AgentInstantiationContext, MessageHandlerContext, SubscriptionInstantiationContext]


@pytest.mark.parametrize("cls", STATIC_CLASSES)
def test_static_context_classes_cannot_be_instantiated(cls: type[Any]) -> None:
    with pytest.raises(RuntimeError, match="static class"):
        cls()


# ---------------------------------------------------------------------------- AgentInstantiationContext


def test_agent_instantiation_context_outside_a_factory() -> None:
    assert AgentInstantiationContext.is_in_factory_call() is False
    with pytest.raises(RuntimeError, match="inside an agent factory"):
        AgentInstantiationContext.current_runtime()
    with pytest.raises(RuntimeError, match="inside an agent factory"):
        AgentInstantiationContext.current_agent_id()


def test_agent_instantiation_context_values_inside_and_nesting_restores() -> None:
    runtime_a = SingleThreadedAgentRuntime()
    runtime_b = SingleThreadedAgentRuntime()
    id_a, id_b = AgentId("a", "1"), AgentId("b", "2")
    with AgentInstantiationContext.populate_context((runtime_a, id_a)):
        assert AgentInstantiationContext.is_in_factory_call()
        assert AgentInstantiationContext.current_runtime() is runtime_a
        assert AgentInstantiationContext.current_agent_id() == id_a
        with AgentInstantiationContext.populate_context((runtime_b, id_b)):
            assert AgentInstantiationContext.current_runtime() is runtime_b
            assert AgentInstantiationContext.current_agent_id() == id_b
        assert AgentInstantiationContext.current_runtime() is runtime_a
        assert AgentInstantiationContext.current_agent_id() == id_a
    assert not AgentInstantiationContext.is_in_factory_call()


def test_agent_instantiation_context_is_reset_when_the_block_raises() -> None:
    runtime = SingleThreadedAgentRuntime()
    with pytest.raises(KeyError), AgentInstantiationContext.populate_context((runtime, AgentId("a", "1"))):
        raise KeyError("factory failed")
    assert not AgentInstantiationContext.is_in_factory_call()


# ---------------------------------------------------------------------------- MessageHandlerContext


def test_message_handler_context_outside_a_handler() -> None:
    with pytest.raises(RuntimeError, match="outside of a message handler"):
        MessageHandlerContext.agent_id()


def test_message_handler_context_values_inside_and_nesting_restores() -> None:
    outer, inner = AgentId("a", "outer"), AgentId("b", "inner")
    with MessageHandlerContext.populate_context(outer):
        assert MessageHandlerContext.agent_id() == outer
        with MessageHandlerContext.populate_context(inner):
            assert MessageHandlerContext.agent_id() == inner
        assert MessageHandlerContext.agent_id() == outer
    with pytest.raises(RuntimeError):
        MessageHandlerContext.agent_id()


def test_message_handler_context_is_reset_when_the_block_raises() -> None:
    with pytest.raises(ValueError), MessageHandlerContext.populate_context(AgentId("a", "k")):
        raise ValueError("handler failed")
    with pytest.raises(RuntimeError):
        MessageHandlerContext.agent_id()


async def test_message_handler_context_is_per_task() -> None:
    seen: dict[str, str] = {}
    gate = asyncio.Event()

    async def handler(name: str) -> None:
        with MessageHandlerContext.populate_context(AgentId("t", name)):
            await gate.wait()  # both tasks are inside their own context at the same time
            seen[name] = MessageHandlerContext.agent_id().key

    tasks = [asyncio.create_task(handler(n)) for n in ("x", "y")]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    assert seen == {"x": "x", "y": "y"}
    with pytest.raises(RuntimeError):
        MessageHandlerContext.agent_id()


def test_message_handler_context_is_a_context_variable() -> None:
    with MessageHandlerContext.populate_context(AgentId("a", "k")):
        snapshot = contextvars.copy_context()
    assert snapshot.run(MessageHandlerContext.agent_id) == AgentId("a", "k")


# ---------------------------------------------------------------------------- SubscriptionInstantiationContext


def test_subscription_instantiation_context() -> None:
    with pytest.raises(RuntimeError, match="outside of a subscription instantiation"):
        SubscriptionInstantiationContext.agent_type()
    with SubscriptionInstantiationContext.populate_context(AgentType("outer")):
        assert SubscriptionInstantiationContext.agent_type() == AgentType("outer")
        with SubscriptionInstantiationContext.populate_context(AgentType("inner")):
            assert SubscriptionInstantiationContext.agent_type() == AgentType("inner")
        assert SubscriptionInstantiationContext.agent_type() == AgentType("outer")
    with pytest.raises(RuntimeError):
        SubscriptionInstantiationContext.agent_type()


# ---------------------------------------------------------------------------- BaseAgent


@dataclass
class Ping:
    pass


class PlainAgent(BaseAgent):
    def __init__(self, description: str = "a plain agent") -> None:
        super().__init__(description)

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        return (str(self.id), MessageHandlerContext.agent_id())


class StatefulAgent(PlainAgent):
    def __init__(self) -> None:
        super().__init__("keeps a counter")
        self.count = 0

    async def save_state(self) -> Mapping[str, Any]:
        return {"count": self.count}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.count = state["count"]


def test_base_agent_is_bound_inside_a_factory_context() -> None:
    runtime = SingleThreadedAgentRuntime()
    agent_id = AgentId("plain", "k")
    with AgentInstantiationContext.populate_context((runtime, agent_id)):
        agent = PlainAgent("described")
    assert agent.id == agent_id
    assert agent.type == "plain"
    assert agent.runtime is runtime
    assert agent.metadata == {"type": "plain", "key": "k", "description": "described"}


async def test_base_agent_is_bound_by_a_real_factory_call() -> None:
    runtime = SingleThreadedAgentRuntime()
    seen: list[tuple[AgentId, Any]] = []

    def factory() -> PlainAgent:
        seen.append((AgentInstantiationContext.current_agent_id(), AgentInstantiationContext.current_runtime()))
        return PlainAgent()

    await runtime.register_factory("plain", factory)
    runtime.start()
    try:
        result = await runtime.send_message(Ping(), AgentId("plain", "k1"))
        agent = await runtime.try_get_underlying_agent_instance(AgentId("plain", "k1"), PlainAgent)
    finally:
        await runtime.stop_when_idle()
    assert seen == [(AgentId("plain", "k1"), runtime)]
    assert result == ("plain/k1", AgentId("plain", "k1"))
    assert agent.id == AgentId("plain", "k1")
    assert agent.runtime is runtime
    assert not AgentInstantiationContext.is_in_factory_call()


def test_base_agent_outside_a_factory_is_unbound() -> None:
    agent = PlainAgent()
    with pytest.raises(AttributeError):
        _ = agent.id
    with pytest.raises(AttributeError):
        _ = agent.runtime


async def test_rebinding_rules() -> None:
    runtime, other_runtime = SingleThreadedAgentRuntime(), SingleThreadedAgentRuntime()
    agent = PlainAgent()
    await agent.bind_id_and_runtime(AgentId("plain", "k"), runtime)
    assert agent.id == AgentId("plain", "k")
    assert agent.runtime is runtime
    # Re-binding to the same values is allowed.
    await agent.bind_id_and_runtime(AgentId("plain", "k"), runtime)
    with pytest.raises(RuntimeError, match="already bound"):
        await agent.bind_id_and_runtime(AgentId("plain", "other"), runtime)
    with pytest.raises(RuntimeError, match="different runtime"):
        await agent.bind_id_and_runtime(AgentId("plain", "k"), other_runtime)
    # A failed rebind changes nothing.
    assert agent.id == AgentId("plain", "k")
    assert agent.runtime is runtime


async def test_rebinding_after_binding_in_a_factory_context() -> None:
    runtime = SingleThreadedAgentRuntime()
    with AgentInstantiationContext.populate_context((runtime, AgentId("plain", "k"))):
        agent = PlainAgent()
    await agent.bind_id_and_runtime(AgentId("plain", "k"), runtime)
    with pytest.raises(RuntimeError):
        await agent.bind_id_and_runtime(AgentId("plain", "k2"), runtime)


async def test_register_agent_instance_binds_the_instance() -> None:
    runtime = SingleThreadedAgentRuntime()
    agent = PlainAgent()
    assert await runtime.register_agent_instance(agent, AgentId("inst", "a")) == AgentId("inst", "a")
    assert agent.id == AgentId("inst", "a")
    assert agent.runtime is runtime


@pytest.mark.parametrize("description", [None, 1, b"bytes", ["list"]])
def test_base_agent_description_must_be_a_str(description: Any) -> None:
    with pytest.raises(ValueError, match="description must be a string"):
        PlainAgent(description)


async def test_default_save_and_load_state_warn() -> None:
    agent = PlainAgent()
    with pytest.warns(UserWarning, match="save_state not implemented"):
        assert await agent.save_state() == {}
    with pytest.warns(UserWarning, match="load_state not implemented"):
        await agent.load_state({"anything": 1})


async def test_overridden_state_methods_do_not_warn() -> None:
    agent = StatefulAgent()
    agent.count = 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        state = await agent.save_state()
        fresh = StatefulAgent()
        await fresh.load_state(state)
    assert fresh.count == 3


async def test_default_close_is_a_no_op() -> None:
    agent = PlainAgent()
    await agent.close()
    await agent.close()


def test_base_agent_is_abstract() -> None:
    with pytest.raises(TypeError):
        BaseAgent("no on_message_impl")  # type: ignore[abstract]


async def test_on_message_delegates_to_on_message_impl() -> None:
    runtime = SingleThreadedAgentRuntime()
    agent_id = AgentId("plain", "k")
    with AgentInstantiationContext.populate_context((runtime, agent_id)):
        agent = PlainAgent()
    ctx = MessageContext(
        sender=None, topic_id=None, is_rpc=True, cancellation_token=CancellationToken(), message_id="1"
    )
    with MessageHandlerContext.populate_context(agent_id):
        assert await agent.on_message(Ping(), ctx) == ("plain/k", agent_id)
