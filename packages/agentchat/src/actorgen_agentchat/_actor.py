"""The actor behind every agent, and the messages agents exchange through the runtime.

An agent object (ConversableAgent and subclasses) holds the v0.2 state: histories per peer,
counters, reply functions. For each runtime it joins, it registers one actor type whose single
instance forwards every delivery to the object. The runtime therefore decides when an agent
handles what: one message at a time, in arrival order, with call-chain reentrancy for nested
chats that come back to an agent that is waiting.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from actorgen_core import AgentId, AgentRuntime, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, event, rpc

if TYPE_CHECKING:
    from ._conversable_agent import ConversableAgent


@dataclass
class Delivery:
    """``message`` from the agent ``sender`` (an agent uid); reply if ``request_reply`` says so
    (None: if the recipient replies to that sender on receipt)."""

    message: dict[str, Any]
    sender: str
    request_reply: bool | None
    silent: bool


@dataclass
class TakeTurn:
    """Group chat: the manager ``manager`` asks for this agent's next message."""

    manager: str
    silent: bool


@dataclass
class GroupBroadcast:
    """Group chat: ``speaker`` said ``message``; every other participant records it."""

    manager: str
    speaker: str
    message: dict[str, Any]


@dataclass
class Flush:
    """Answered once everything sent to the agent before it has been handled."""


@dataclass
class Outcome:
    """An agent's answer to a Delivery or TakeTurn: its reply, or None and why it stayed silent."""

    reply: dict[str, Any] | None
    stop_reason: str | None = None


# The runtime whose handler is running (nested chats and group chats started there use it).
CURRENT_RUNTIME: contextvars.ContextVar[AgentRuntime | None] = contextvars.ContextVar(
    "actorgen_agentchat_current_runtime", default=None
)

_agents: weakref.WeakValueDictionary[str, ConversableAgent] = weakref.WeakValueDictionary()


def register_agent(uid: str, agent: ConversableAgent) -> None:
    _agents[uid] = agent


def agent_by_uid(uid: str) -> ConversableAgent:
    try:
        return _agents[uid]
    except KeyError:
        raise LookupError(f"No live agent with id {uid!r} in this process") from None


class ChatActor(RoutedAgent):
    """Forwards deliveries to the agent object it stands for."""

    def __init__(self, uid: str) -> None:
        super().__init__(f"actorgen_agentchat agent {uid}")
        self._uid = uid

    @rpc
    async def on_delivery(self, message: Delivery, ctx: MessageContext) -> Outcome:
        CURRENT_RUNTIME.set(self.runtime)
        return await agent_by_uid(self._uid)._handle_delivery(message)

    @rpc
    async def on_take_turn(self, message: TakeTurn, ctx: MessageContext) -> Outcome:
        CURRENT_RUNTIME.set(self.runtime)
        return await agent_by_uid(self._uid)._handle_take_turn(message)

    @event
    async def on_broadcast(self, message: GroupBroadcast, ctx: MessageContext) -> None:
        agent_by_uid(self._uid)._handle_broadcast(message)

    @rpc
    async def on_flush(self, message: Flush, ctx: MessageContext) -> Outcome:
        return Outcome(None)


async def request(
    runtime: AgentRuntime, message: Any, recipient: AgentId, *, sender: AgentId, timeout: float = math.inf
) -> Outcome:
    """A request to an agent's actor. Chats wait on humans and models, so a request has no
    deadline unless the chat has a time limit (the runtime's default timeout does not apply)."""
    if isinstance(runtime, SingleThreadedAgentRuntime):
        result = await runtime.send_message(message, recipient, sender=sender, timeout=timeout)
    elif timeout == math.inf:
        result = await runtime.send_message(message, recipient, sender=sender)
    else:
        async with asyncio.timeout(timeout):
            result = await runtime.send_message(message, recipient, sender=sender)
    if not isinstance(result, Outcome):
        raise TypeError(f"{recipient} answered with {type(result).__name__}, not an Outcome")
    return result
