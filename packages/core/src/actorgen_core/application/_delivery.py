"""The pieces a delivery is made of: queued envelopes, agent entry points, reply futures.

Kept apart from the runtime class so that each reads on its own: the runtime decides
*when* a message runs; these helpers say *how* it is started and how its reply travels.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from contextvars import Context
from typing import Any, cast

from ..base import Agent, AgentId, BaseAgent, CancellationToken, DropMessage, MessageContext, TopicId
from ..base._constants import ROOT_LOGGER_NAME
from ..base._contexts import CallFrame
from ..base.exceptions import RequestTimeoutError

logger = logging.getLogger(ROOT_LOGGER_NAME)

_EMPTY: frozenset[type] = frozenset()


class Activation:
    """One live agent: the object, how to start a delivery to it, and its mailbox.

    ``busy`` is true while a turn runs (or the mailbox is being drained); messages that
    arrive meanwhile wait in ``queue``, which exists only once something had to wait.
    """

    __slots__ = ("agent", "agent_id", "busy", "entry", "frame", "interleaved", "queue")

    def __init__(self, agent_id: AgentId, agent: Agent) -> None:
        self.agent_id = agent_id
        self.agent = agent
        self.entry, self.interleaved = entry_point(agent)
        self.busy = False
        self.frame: CallFrame | None = None  # the call frame of the running turn, while busy
        self.queue: deque[Envelope] | None = None


class Envelope:
    """A message waiting in a mailbox (or in the pre-start queue)."""

    __slots__ = ("activation", "context", "ctx", "frame", "message", "reply")

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


_ENTRY_POINTS: dict[type, tuple[Callable[[Any, Any, MessageContext], Coroutine[Any, Any, Any]], frozenset[type]]] = {}


def entry_point(
    agent: Agent,
) -> tuple[Callable[[Any, Any, MessageContext], Coroutine[Any, Any, Any]], frozenset[type]]:
    """How to start a delivery to ``agent`` and which message types it interleaves, per class.

    ``BaseAgent.on_message`` only forwards to ``on_message_impl``, so for BaseAgent
    subclasses the runtime calls ``on_message_impl`` directly and saves a coroutine layer.
    """
    cls = type(agent)
    found = _ENTRY_POINTS.get(cls)
    if found is None:
        if isinstance(agent, BaseAgent) and getattr(cls, "on_message", None) is BaseAgent.on_message:
            entry = cast(Callable[[Any, Any, MessageContext], Coroutine[Any, Any, Any]], type(agent).on_message_impl)
        else:
            entry = _call_on_message
        found = _ENTRY_POINTS[cls] = (entry, getattr(cls, "_interleaved_types", _EMPTY))
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


def transfer(task: asyncio.Task[Any], reply: asyncio.Future[Any], recipient: AgentId) -> None:
    if task.cancelled():
        if not reply.done():
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


def stop_callee_if_abandoned(
    callee_token: CancellationToken, task: asyncio.Task[Any] | None, reply: asyncio.Future[Any]
) -> None:
    """The caller stopped waiting (timeout or cancellation): cancel the callee's token and task."""
    if reply.cancelled() or isinstance(reply.exception(), RequestTimeoutError):
        callee_token.cancel()
        if task is not None and not task.done():
            task.cancel()


def cancel_task_if_abandoned(task: asyncio.Task[Any], reply: asyncio.Future[Any]) -> None:
    if (reply.cancelled() or isinstance(reply.exception(), RequestTimeoutError)) and not task.done():
        task.cancel()
