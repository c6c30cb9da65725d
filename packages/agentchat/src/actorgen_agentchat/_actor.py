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
import re
import threading
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
class PrepareChat:
    """A chat with ``peer`` starts: reset the counters for it, and maybe the history."""

    peer: str
    clear_history: bool
    reply_at_receive: bool


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

# Agents of this process by id, and stand-ins for agents of other processes (kept, so that a
# remote peer stays the same key of every history).
_agents: weakref.WeakValueDictionary[str, ConversableAgent] = weakref.WeakValueDictionary()
_standins: dict[str, ConversableAgent] = {}
_used_ids: set[str] = set()
_ids_lock = threading.Lock()  # agents may be built in several threads at once


def allocate_uid(name: str) -> str:
    """The agent's id in this process: its name (letters, digits, "_", "-", "." only), the
    same in every process, so that agents of one chat can live in different processes;
    a second agent of the same name in one process gets a numbered id."""
    base = re.sub(r"[^\w\-.]", "_", name)[:100] or "agent"
    with _ids_lock:
        uid, number = base, 1
        while uid in _used_ids:
            number += 1
            uid = f"{base}-{number}"
        _used_ids.add(uid)
    return uid


def register_agent(uid: str, agent: ConversableAgent, *, standin: bool = False) -> None:
    if standin:
        _standins[uid] = agent
    else:
        _agents[uid] = agent


def local_agent(uid: str) -> ConversableAgent:
    """The agent of this process an actor stands for."""
    try:
        return _agents[uid]
    except KeyError:
        raise LookupError(f"No live agent with id {uid!r} in this process") from None


def agent_by_uid(uid: str) -> ConversableAgent:
    """A peer by id: the stand-in this process uses for it if it has one (a RemoteAgent),
    else the agent living here, else a new stand-in (a remote agent that spoke first)."""
    agent = _standins.get(uid) or _agents.get(uid)
    if agent is None:
        from ._remote import RemoteAgent  # an agent of another process is speaking to us

        agent = RemoteAgent(uid)
    return agent


def actor_type(uid: str) -> str:
    return f"agentchat.{uid}"


class ChatActor(RoutedAgent):
    """Forwards deliveries to the agent object it stands for."""

    def __init__(self, uid: str) -> None:
        super().__init__(f"actorgen_agentchat agent {uid}")
        self._uid = uid

    @rpc
    async def on_delivery(self, message: Delivery, ctx: MessageContext) -> Outcome:
        CURRENT_RUNTIME.set(self.runtime)
        return await local_agent(self._uid)._handle_delivery(message)

    @rpc
    async def on_take_turn(self, message: TakeTurn, ctx: MessageContext) -> Outcome:
        CURRENT_RUNTIME.set(self.runtime)
        return await local_agent(self._uid)._handle_take_turn(message)

    @event
    async def on_broadcast(self, message: GroupBroadcast, ctx: MessageContext) -> None:
        local_agent(self._uid)._handle_broadcast(message)

    @rpc
    async def on_prepare_chat(self, message: PrepareChat, ctx: MessageContext) -> Outcome:
        CURRENT_RUNTIME.set(self.runtime)
        agent = local_agent(self._uid)
        await agent._a_prepare_chat(agent_by_uid(message.peer), message.clear_history, message.reply_at_receive)
        return Outcome(None)

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
