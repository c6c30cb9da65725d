"""The pieces a delivery is made of: activations, queued envelopes, reply futures.

Kept apart from the runtime class so that each reads on its own: the runtime decides
*when* a message runs; these say what an agent's mailbox holds and how a reply travels.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from contextvars import Context
from typing import TYPE_CHECKING, Any, cast

from ..base import Agent, AgentId, BaseAgent, CancellationToken, DropMessage, MessageContext, TopicId
from ..base._constants import ROOT_LOGGER_NAME
from ..base._contexts import CallFrame
from ..base.exceptions import RequestTimeoutError, RuntimeStoppedError

if TYPE_CHECKING:
    from ._lifecycle import Life

logger = logging.getLogger(ROOT_LOGGER_NAME)

EntryPoint = Callable[[Any, Any, MessageContext], Coroutine[Any, Any, Any]]
Interleaves = Callable[[type], bool]

# How a delivery occupies its agent.
TURN = 0
"""A turn of its own: the agent handles nothing else (bar reentrant and interleaved
deliveries) until it ends."""
NESTED = 1
"""A reentrant request (its call chain passes through a running handler of the agent): it
enters at once, and the turn it entered does not end before it does."""
BESIDE = 2
"""An interleaved handler: runs beside whatever turn is running and holds nothing."""


class Activation:
    """One live agent: the object, how to start a delivery to it, and its mailbox.

    ``busy`` is true from the moment a turn is reserved until the mailbox is empty again
    (also while the agent is still being created); messages that arrive meanwhile wait in
    ``queue``, which exists only once something had to wait. ``holders`` counts the
    deliveries occupying the agent: its turn plus the reentrant requests inside it.
    """

    __slots__ = ("agent", "agent_id", "busy", "created", "draining", "entry", "holders", "interleaves", "life", "queue")

    def __init__(self, agent_id: AgentId, agent: Agent | None) -> None:
        self.agent_id = agent_id
        self.busy = False
        self.draining = False
        self.holders = 0
        self.queue: deque[Envelope] | None = None
        self.created: asyncio.Future[None] | None = None  # set while an async factory runs
        self.agent = cast(Agent, agent)
        self.entry: EntryPoint
        self.interleaves: Interleaves | None = None
        self.life: Life | None = None  # set only for agent types that opted in to a lifecycle (_lifecycle)
        if agent is not None:
            self.bind(agent)

    def bind(self, agent: Agent) -> None:
        self.agent = agent
        self.entry, self.interleaves = entry_point(agent)


class Envelope:
    """A delivery that is waiting (in a mailbox or the pre-start queue) or a request whose
    handler is running while its caller waits for the reply."""

    __slots__ = ("activation", "context", "ctx", "frame", "message", "reply", "started", "task")

    def __init__(
        self,
        message: Any,
        ctx: MessageContext,
        activation: Activation,
        reply: asyncio.Future[Any] | None,
        frame: CallFrame,
        context: Context,
    ) -> None:
        self.message = message
        self.ctx = ctx
        self.activation = activation
        self.reply = reply
        self.frame = frame
        self.context = context
        self.started = False
        self.task: asyncio.Task[Any] | None = None

    @property
    def recipient(self) -> AgentId:
        return self.activation.agent_id


class PendingPublish:
    """A publish accepted before start(); its recipients are resolved when it is delivered."""

    __slots__ = ("message", "message_id", "sender", "token", "topic_id")

    def __init__(
        self,
        message: Any,
        topic_id: TopicId,
        sender: AgentId | None,
        token: CancellationToken,
        message_id: str,
    ) -> None:
        self.message = message
        self.topic_id = topic_id
        self.sender = sender
        self.token = token
        self.message_id = message_id


_ENTRY_POINTS: dict[type, tuple[EntryPoint, Interleaves | None]] = {}


def entry_point(agent: Agent) -> tuple[EntryPoint, Interleaves | None]:
    """How to start a delivery to ``agent``, and which messages it interleaves, per class.

    ``BaseAgent.on_message`` only forwards to ``on_message_impl``, so for BaseAgent
    subclasses the runtime calls ``on_message_impl`` directly and saves a coroutine layer.
    An agent class that declares interleaved handlers has a ``_interleaves(message_type)``
    class method (RoutedAgent's follows its routing); for every other class nothing
    interleaves and the runtime asks nothing per message.
    """
    cls = type(agent)
    found = _ENTRY_POINTS.get(cls)
    if found is None:
        if isinstance(agent, BaseAgent) and getattr(cls, "on_message", None) is BaseAgent.on_message:
            entry = cast(EntryPoint, cls.on_message_impl)  # type: ignore[attr-defined]
        else:
            entry = _call_on_message
        interleaves = getattr(cls, "_interleaves", None) if getattr(cls, "_has_interleaved_handlers", False) else None
        found = _ENTRY_POINTS[cls] = (entry, interleaves)
    return found


def _call_on_message(agent: Agent, message: Any, ctx: MessageContext) -> Coroutine[Any, Any, Any]:
    return agent.on_message(message, ctx)


def is_drop(result: Any) -> bool:
    return result is DropMessage or isinstance(result, DropMessage)


def set_error(future: asyncio.Future[Any], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)


def transfer(task: asyncio.Task[Any], reply: asyncio.Future[Any], recipient: AgentId, closing: bool) -> None:
    """Complete ``reply`` with the outcome of the handler ``task``."""
    if task.cancelled():
        if not reply.done():
            if closing:
                reply.set_exception(RuntimeStoppedError(f"The runtime closed while {recipient} handled the request"))
            else:
                reply.cancel()
        return
    exc = task.exception()
    if reply.done():
        if exc is not None:
            logger.debug("Handler of %s failed after its caller stopped waiting: %r", recipient, exc)
        return
    if exc is not None:
        set_error(reply, exc)
    else:
        reply.set_result(task.result())


def expire(reply: asyncio.Future[Any], recipient: AgentId, seconds: float) -> None:
    if not reply.done():
        reply.set_exception(RequestTimeoutError(f"No reply from {recipient} within {seconds:.3g} s"))


def cancel_future(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.get_loop().call_soon_threadsafe(future.cancel)


def abandoned(reply: asyncio.Future[Any]) -> bool:
    """Whether the caller stopped waiting for ``reply`` (it was cancelled or timed out)."""
    return reply.cancelled() or isinstance(reply.exception(), RequestTimeoutError)
