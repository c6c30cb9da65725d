"""The in-process runtime: every agent is an actor with its own mailbox, on one event loop.

How a delivery runs (docs/semantics.md has the user-facing contract):

* Each AgentId handles one message at a time, in arrival order. Every live agent has an
  ``Activation`` (see ``_delivery``) that says whether a turn holds it; a message for a
  busy agent waits in its mailbox, drained in order when the turn ends.
* Every handler runs as its own asyncio task, started eagerly (see ``_eager``): its first
  step runs at once, inside the sender's call, so a handler that finishes without waiting
  costs no trip through the event loop, yet sees itself as an ordinary task.
* A publish first reserves every idle recipient and queues behind every busy one, and
  only then starts the reserved handlers: whatever those publish in reaction reaches each
  subscriber after the original (causal order).
* Call-chain reentrancy: a request whose call chain passes through a running handler of
  the recipient (A waits on B, and B asks A) enters at once, and the turn it entered does
  not end before it does.
* Every request has a deadline: the caller's ``timeout`` or the runtime default, never
  later than the deadline of the request being handled. It covers everything the request
  waits for: interventions, the recipient's creation, its mailbox and its handler.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from contextvars import copy_context
from functools import partial
from typing import Any, TypeVar, overload

from opentelemetry.trace import TracerProvider

from ..base import (
    Agent,
    AgentId,
    AgentMetadata,
    AgentRuntime,
    AgentType,
    CancellationToken,
    InterventionHandler,
    MessageContext,
    MessageHandlerExceptionEvent,
    MessageSerializer,
    Subscription,
    TopicId,
)
from ..base._constants import EVENT_LOGGER_NAME, ROOT_LOGGER_NAME
from ..base._contexts import CURRENT_FRAME, CallFrame
from ..base._serialization import SerializationRegistry
from ..base.exceptions import AgentNotFoundError, RequestTimeoutError, RuntimeStoppedError
from ._agent_directory import AgentDirectory
from ._delivery import (
    BESIDE,
    NESTED,
    TURN,
    Activation,
    Envelope,
    PendingPublish,
    abandoned,
    cancel_future,
    expire,
    set_error,
    transfer,
)
from ._eager import start_lazy_task, start_task
from ._lifecycle import Lifecycle
from ._observed import payload, publish_observed, send_observed, traced
from ._scheduling import Timer
from ._state_store import StateStore
from ._subscription_manager import SubscriptionManager
from ._telemetry import resolve_tracer

_new = object.__new__  # see _fan_out
logger = logging.getLogger(ROOT_LOGGER_NAME)
event_logger = logging.getLogger(EVENT_LOGGER_NAME)

T = TypeVar("T", bound=Agent)

DEFAULT_TIMEOUT = 60.0
"""Seconds a request waits for its reply unless the caller or the runtime says otherwise."""

_YIELD_EVERY = 16
"""Sends or publishes in a row after which the sender yields to the event loop once, so a
tight loop of deliveries that never wait cannot starve other tasks."""

_MAX_EAGER_DEPTH = 32
"""Handlers started eagerly inside each other's first steps, at most. Deeper ones start on
a fresh stack (a task whose first step waits for the next loop iteration), so that long
chains of requests or ping-pong publishes never reach the interpreter's recursion limit."""


def _waits_on(frame: CallFrame | None, agent_id: AgentId) -> bool:
    """Whether the call chain ending in ``frame`` passes through a running handler of
    ``agent_id``. If it does, that handler is (indirectly) waiting for this request, which
    must be let in now or the chain deadlocks. Frames of handlers that ended stop the walk:
    a task a handler left behind is not part of its chain any more."""
    while frame is not None and frame.active:
        if frame.agent_id == agent_id:
            return True
        frame = frame.parent
    return False


class SingleThreadedAgentRuntime(AgentRuntime):
    """Runs agents in this process, on the running asyncio event loop.

    Args:
        intervention_handlers: see every send, publish and response, in list order, each
            seeing the previous one's result; may replace or drop messages.
        tracer_provider: OpenTelemetry provider for runtime spans. Without one, spans are
            made only when a real provider is installed globally before ``start()``.
        ignore_unhandled_exceptions: when False, an exception raised by an event handler
            is re-raised from ``stop()`` / ``stop_when_idle()`` (it is always logged).
        default_timeout: seconds a ``send_message`` waits for its reply when the caller
            gives no ``timeout``; ``None`` waits without limit.
        state_store: where agents' state lives between activations (see docs/lifecycle.md):
            with one, the state of factory-made agents is loaded before their first message
            and written after every turn that changed it.
        idle_timeout: deactivate factory-made agents idle for this many seconds (the
            default for ``register_factory(..., idle_timeout=...)``; None: never).
        max_live_per_type: keep at most this many live agents per factory-registered type,
            deactivating the least recently used (the default for ``max_live``).
    """

    def __init__(
        self,
        *,
        intervention_handlers: list[InterventionHandler] | None = None,
        tracer_provider: TracerProvider | None = None,
        ignore_unhandled_exceptions: bool = True,
        default_timeout: float | None = DEFAULT_TIMEOUT,
        state_store: StateStore | None = None,
        idle_timeout: float | None = None,
        max_live_per_type: int | None = None,
    ) -> None:
        if default_timeout is not None and not default_timeout > 0:
            raise ValueError(f"default_timeout must be a positive number of seconds or None, got {default_timeout!r}")
        self._intervention_handlers: list[InterventionHandler] = list(intervention_handlers or [])
        self._tracer_provider = tracer_provider
        self._tracer = resolve_tracer(tracer_provider, "SingleThreadedAgentRuntime")
        self._ignore_unhandled_exceptions = ignore_unhandled_exceptions
        self._default_timeout = default_timeout
        self._directory = AgentDirectory(self)
        self._lifecycle = Lifecycle(
            self, state_store=state_store, idle_timeout=idle_timeout, max_live=max_live_per_type
        )
        # The directory's tables, read on every delivery: one attribute lookup, not two.
        self._factories = self._directory.factories
        self._activations = self._directory.activations
        self._creating = self._directory.creating
        self._subscription_manager = SubscriptionManager()
        self._serialization_registry = SerializationRegistry()
        self._started = False
        self._running = False  # started, and everything accepted before start() is delivered
        self._closing = False
        self._pending: deque[Envelope | PendingPublish] = deque()
        self._outstanding = 0  # deliveries accepted and not finished: what stop_when_idle waits for
        self._idle_event: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flush_task: asyncio.Task[None] | None = None
        self._background_exception: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._id_prefix = secrets.token_hex(6)
        self._id_counter = itertools.count(1)
        self._sync_runs = 0
        self._depth = 0

    # ------------------------------------------------------------------ introspection

    @property
    def unprocessed_messages_count(self) -> int:
        """Messages accepted but not yet started (pre-start queue plus all mailboxes)."""
        waiting = itertools.chain(self._activations.values(), self._creating.values())
        return len(self._pending) + sum(len(a.queue) for a in waiting if a.queue)

    @property
    def _instantiated_agents(self) -> dict[AgentId, Agent]:
        """The agents that exist now (a snapshot; autogen_core tests read this)."""
        return {agent_id: activation.agent for agent_id, activation in self._activations.items()}

    @property
    def default_timeout(self) -> float | None:
        return self._default_timeout

    def _new_message_id(self) -> str:
        return f"{self._id_prefix}-{next(self._id_counter)}"

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None or loop.is_closed():
            loop = self._loop = asyncio.get_running_loop()
        return loop

    def _observed(self) -> bool:
        return bool(self._intervention_handlers) or self._tracer is not None or event_logger.isEnabledFor(logging.INFO)

    # ------------------------------------------------------------------ send (RPC)

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Deliver ``message`` to ``recipient`` and return its handler's result.

        Raises AgentNotFoundError (an UndeliverableException) at once for an unknown
        recipient type, CantHandleException when no handler accepts the request, the
        handler's own exception unchanged, and RequestTimeoutError (a TimeoutError) when
        ``timeout`` (default: the runtime's ``default_timeout``; never later than the
        deadline of the request being handled) expires.
        """
        # An identity test first: it is cheaper than isinstance, and nearly every caller
        # passes a plain AgentId.
        if recipient.__class__ is not AgentId and not isinstance(recipient, AgentId):
            raise TypeError(f"recipient must be an AgentId, got {type(recipient).__name__}")
        self._admit(recipient)
        deadline, parent = self._deadline(recipient, timeout)
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError(f"Request to {recipient} cancelled before it was sent")
        ctx = MessageContext(
            sender, None, True, CancellationToken(), message_id if message_id is not None else self._new_message_id()
        )
        try:
            if self._observed():
                return await send_observed(self, message, recipient, ctx, parent, deadline, cancellation_token)
            return await self._send(message, recipient, ctx, parent, deadline, cancellation_token)
        finally:
            await self._maybe_yield()

    def _admit(self, recipient: AgentId) -> None:
        """Refuse a request this runtime cannot take: an unknown type, or closing."""
        if recipient.type not in self._factories:
            raise AgentNotFoundError(
                f"Recipient not found: no agent type {recipient.type!r} is registered with this runtime"
            )
        if self._closing:
            raise RuntimeStoppedError(f"Request to {recipient} not sent: the runtime is closing")

    def _request_nowait(
        self, message: Any, recipient: AgentId, sender: AgentId | None, message_id: str, timeout: float | None
    ) -> tuple[asyncio.Future[Any] | None, Any]:
        """``send_message`` for a caller that is not a coroutine (the gRPC worker serving a
        request from another process), without interventions or tracing (callers use
        ``send_message`` when ``_observed()``). Returns ``(None, result)`` if the handler
        finished at once (raises its exception if it raised there), else ``(reply, None)``:
        the reply is bounded by the deadline, and cancelling it stops the request."""
        self._admit(recipient)
        deadline, parent = self._deadline(recipient, timeout)
        ctx = MessageContext(sender, None, True, CancellationToken(), message_id or self._new_message_id())
        envelope, outcome = self._send_nowait(message, recipient, ctx, parent, deadline)
        if envelope is None:
            return None, outcome
        reply: asyncio.Future[Any] = outcome
        reply.add_done_callback(partial(self._reply_done, envelope))
        if deadline is not None:
            loop = self._loop or self._get_loop()
            timer = loop.call_at(deadline, expire, reply, recipient, deadline - loop.time())
            reply.add_done_callback(lambda _: timer.cancel())
        return reply, None

    def _deadline(self, recipient: AgentId, timeout: float | None) -> tuple[float | None, CallFrame | None]:
        """A new request's absolute deadline and the frame of the handler sending it.

        The deadline is ``timeout`` (default: the runtime's) from now, but never later than
        the deadline of the request being handled; a request sent after that has passed is
        refused. A task its handler left behind starts a chain of its own (parent None).
        """
        # The loop is cached at start(); asking asyncio for it costs a C call per request.
        loop = self._loop or self._get_loop()
        if timeout is None:
            timeout = self._default_timeout
        elif not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        now = loop.time()
        deadline = None if timeout is None or timeout == math.inf else now + timeout
        parent = CURRENT_FRAME.get(None)
        if parent is not None:
            if not parent.active:
                return deadline, None
            inherited = parent.deadline
            if inherited is not None and (deadline is None or inherited < deadline):
                if inherited <= now:
                    raise RequestTimeoutError(
                        f"Request to {recipient} not sent: the deadline of the request being handled has passed"
                    )
                deadline = inherited
        return deadline, parent

    async def _send(
        self,
        message: Any,
        recipient: AgentId,
        ctx: MessageContext,
        parent: CallFrame | None,
        deadline: float | None,
        parent_token: CancellationToken | None,
    ) -> Any:
        envelope, outcome = self._send_nowait(message, recipient, ctx, parent, deadline)
        if envelope is None:
            return outcome
        return await self._await_reply(envelope, outcome, parent_token, deadline)

    def _send_nowait(
        self,
        message: Any,
        recipient: AgentId,
        ctx: MessageContext,
        parent: CallFrame | None,
        deadline: float | None,
    ) -> tuple[Envelope | None, Any]:
        """Start a request (the turn protocol's entry for sends). Returns ``(None, result)``
        when the handler finished in its first step (raising its exception if it raised
        there), otherwise ``(envelope, reply)``: the handler runs or waits in the queue, and
        ``reply`` gets its outcome. Whoever holds ``reply`` must bound it like
        ``_await_reply`` does (its deadline, and ``_reply_done`` to stop an abandoned request)."""
        activation = self._activations.get(recipient)
        if activation is None:
            activation = self._activation(recipient)
        frame = CallFrame(recipient, deadline, parent)
        loop = self._loop or self._get_loop()
        reply: asyncio.Future[Any]
        if not self._running:
            reply = loop.create_future()
            envelope = Envelope(message, ctx, activation, reply, frame, copy_context())
            self._accept_pending(envelope)
            return envelope, reply
        interleaves = activation.interleaves
        if interleaves is not None and interleaves(type(message)):
            kind = BESIDE
        elif not activation.busy:
            kind = TURN
            activation.busy = True
            activation.holders = 1
        elif _waits_on(parent, recipient):
            kind = NESTED
            activation.holders += 1
        else:
            reply = loop.create_future()
            envelope = Envelope(message, ctx, activation, reply, frame, copy_context())
            self._outstanding += 1
            self._enqueue(activation, envelope)
            return envelope, reply
        context = copy_context()
        task, result = self._start(activation, message, ctx, frame, context, kind)
        if task is None:
            return None, result
        self._outstanding += 1
        reply = loop.create_future()
        envelope = Envelope(message, ctx, activation, reply, frame, context)
        envelope.started = True
        envelope.task = task
        task.add_done_callback(partial(self._turn_done, activation, frame, kind, reply, message))
        return envelope, reply

    async def _await_reply(
        self,
        envelope: Envelope,
        reply: asyncio.Future[Any],
        parent_token: CancellationToken | None,
        deadline: float | None,
    ) -> Any:
        """Wait for ``reply`` until the deadline; whatever ends the wait early stops the callee."""
        reply.add_done_callback(partial(self._reply_done, envelope))
        return await self._wait_bounded(reply, envelope.recipient, parent_token, deadline)

    async def _wait_bounded(
        self,
        reply: asyncio.Future[Any],
        recipient: AgentId,
        parent_token: CancellationToken | None,
        deadline: float | None,
    ) -> Any:
        loop = self._get_loop()
        timer = None
        if deadline is not None:
            timer = loop.call_at(deadline, expire, reply, recipient, deadline - loop.time())
        on_parent_cancel = None
        if parent_token is not None:
            on_parent_cancel = partial(cancel_future, reply)
            parent_token.add_callback(on_parent_cancel)
        try:
            return await reply
        finally:
            if timer is not None:
                timer.cancel()
            if on_parent_cancel is not None and parent_token is not None:
                parent_token._remove_callback(on_parent_cancel)

    def _reply_done(self, envelope: Envelope, reply: asyncio.Future[Any]) -> None:
        """The one place an abandoned request (timed out, or its caller cancelled) is stopped:
        still queued, it leaves the queue and never runs; running, its token and task are
        cancelled."""
        if not abandoned(reply):
            return
        envelope.ctx.cancellation_token.cancel()
        if envelope.started:
            task = envelope.task
            if task is not None and not task.done():
                task.cancel()
            return
        envelope.started = True  # it never will
        for waiting in (envelope.activation.queue, self._pending):
            if waiting is not None:
                try:
                    waiting.remove(envelope)
                except ValueError:
                    continue
                self._finish_one()
                return

    async def _bounded(
        self,
        coro: Coroutine[Any, Any, Any],
        recipient: AgentId,
        deadline: float | None,
        token: CancellationToken | None,
    ) -> Any:
        """Run ``coro`` (part of a request to ``recipient``) as a task of its own, waited for
        like a reply: until the request's deadline, or until the caller's token is cancelled."""
        task, result = start_task(self._get_loop(), coro, copy_context(), None)
        if task is None:
            return result
        self._keep(task)
        reply: asyncio.Future[Any] = self._get_loop().create_future()
        task.add_done_callback(partial(transfer, reply=reply, recipient=recipient, closing=False))
        reply.add_done_callback(lambda r: task.cancel() if abandoned(r) and not task.done() else None)
        return await self._wait_bounded(reply, recipient, token, deadline)

    # ------------------------------------------------------------------ publish

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> None:
        """Deliver ``message`` to every agent subscribed to ``topic_id`` except the sender.

        Returns once the message is accepted; handlers run on their own. Each subscribed
        agent receives it once, even when several of its subscriptions match.
        """
        if not isinstance(topic_id, TopicId):
            raise TypeError(f"topic_id must be a TopicId, got {type(topic_id).__name__}")
        if self._closing:
            raise RuntimeStoppedError(f"Message not published to {topic_id}: the runtime is closing")
        token = cancellation_token if cancellation_token is not None else CancellationToken()
        if message_id is None:
            message_id = self._new_message_id()
        try:
            if self._observed():
                await publish_observed(self, message, topic_id, sender, token, message_id)
            elif not self._running:
                self._accept_pending(PendingPublish(message, topic_id, sender, token, message_id))
            else:
                recipients = self._subscription_manager.recipients(topic_id)
                self._fan_out(message, topic_id, recipients, sender, token, message_id)
        finally:
            await self._maybe_yield()

    def _fan_out(
        self,
        message: Any,
        topic_id: TopicId,
        recipients: Sequence[AgentId],
        sender: AgentId | None,
        token: CancellationToken,
        message_id: str,
    ) -> None:
        """Reserve every idle recipient and queue behind every busy one, then start the
        reserved handlers: what they publish in reaction then reaches every recipient after
        ``message`` (causal order). Runtimes built on this one (the gRPC worker) deliver an
        event to exactly ``recipients`` through here, without interventions."""
        activations = self._activations
        message_type = type(message)
        starts: list[tuple[Activation, CallFrame, int]] = []
        for recipient in recipients:
            if sender is not None and recipient == sender:
                continue
            activation = activations.get(recipient)
            if activation is None:
                try:
                    activation = self._activation(recipient)
                except Exception as e:
                    self._event_failed(recipient, message, e, "could not be created for")
                    continue
            # The frame (and the context below) is built field by field, without the Python
            # call to __init__: 4 % of a delivery's instructions (benchmarks/instructions.py).
            # A test checks that every field is set.
            frame = _new(CallFrame)
            frame.agent_id = recipient
            frame.deadline = frame.parent = None
            frame.active = True
            interleaves = activation.interleaves
            if interleaves is not None and interleaves(message_type):
                starts.append((activation, frame, BESIDE))
            elif activation.busy:
                ctx = MessageContext(sender, topic_id, False, token, message_id)
                self._outstanding += 1
                self._enqueue(activation, Envelope(message, ctx, activation, None, frame, copy_context()))
            else:
                activation.busy = True
                activation.holders = 1
                starts.append((activation, frame, TURN))
        for activation, frame, kind in starts:
            ctx = _new(MessageContext)  # field by field, as the frame above
            ctx.sender = sender
            ctx.topic_id = topic_id
            ctx.is_rpc = False
            ctx.cancellation_token = token
            ctx.message_id = message_id
            try:
                task, _ = self._start(activation, message, ctx, frame, copy_context(), kind)
            except Exception as e:
                self._event_failed(activation.agent_id, message, e)
                continue
            except asyncio.CancelledError:
                logger.debug("Event handler of %s was cancelled", activation.agent_id)
                continue
            if task is None:
                continue
            self._outstanding += 1
            task.add_done_callback(partial(self._turn_done, activation, frame, kind, None, message))

    # ------------------------------------------------------------------ turns

    def _start(
        self,
        activation: Activation,
        message: Any,
        ctx: MessageContext,
        frame: CallFrame,
        context: Any,
        kind: int,
    ) -> tuple[asyncio.Task[Any] | None, Any]:
        """Start one delivery as its own task (the turn protocol, for send, publish and drain).

        The caller has already reserved the agent for ``kind``. Returns ``(task, None)`` if
        the handler has to wait (its end must be reported to ``_turn_done``), or
        ``(None, result)`` if it finished in its first step; raises the handler's exception
        if it raised there. In both of the latter cases the agent is already released.
        """
        agent = activation.agent
        tracer = self._tracer
        coro = activation.entry(agent, message, ctx) if tracer is None else traced(tracer, agent, message, ctx)
        loop = self._loop or self._get_loop()
        if self._depth >= _MAX_EAGER_DEPTH:
            task = start_lazy_task(loop, coro, context, frame)
        else:
            self._depth += 1
            try:
                eager, result = start_task(loop, coro, context, frame)
            except BaseException:
                frame.active = False
                if kind != BESIDE:
                    self._end(activation)
                raise
            finally:
                self._depth -= 1
            if eager is None:  # finished in its first step
                frame.active = False
                if kind != BESIDE:
                    activation.holders -= 1
                    if activation.holders == 0:
                        if activation.life is None and not activation.queue and not activation.draining:
                            activation.busy = False  # _free's common case, written out: it runs once per delivery
                        else:
                            self._free(activation)
                return None, result
            task = eager
        self._keep(task)
        if kind == BESIDE and activation.life is not None:  # lifecycle hook
            self._lifecycle.beside_started(activation)
        return task, None

    def _turn_done(
        self,
        activation: Activation,
        frame: CallFrame,
        kind: int,
        reply: asyncio.Future[Any] | None,
        message: Any,
        task: asyncio.Task[Any],
    ) -> None:
        """A handler that had to wait has ended: release its agent, deliver its outcome."""
        frame.active = False
        if kind != BESIDE:
            self._end(activation)
        elif activation.life is not None:  # lifecycle hook
            self._lifecycle.beside_ended(activation)
        if reply is not None:
            transfer(task, reply, activation.agent_id, self._closing)
        elif task.cancelled():
            logger.debug("Event handler of %s was cancelled", activation.agent_id)
        elif (exc := task.exception()) is not None:
            self._event_failed(activation.agent_id, message, exc)
        self._finish_one()

    def _end(self, activation: Activation) -> None:
        """A delivery holding the agent (a turn, or a reentrant request inside it) ended."""
        activation.holders -= 1
        if activation.holders == 0:
            self._free(activation)

    def _free(self, activation: Activation) -> None:
        """Nothing holds the agent any more."""
        if activation.life is None:
            self._release(activation)
        else:  # lifecycle hook: an agent type that opted in (idle deactivation, a cap, stored state)
            self._lifecycle.turn_ended(activation)

    def _release(self, activation: Activation) -> None:
        """Nothing holds the agent any more: start its next message, or mark it idle."""
        if activation.draining:
            return  # the drain loop below decides what runs next
        if activation.queue:
            self._get_loop().call_soon(self._drain, activation)
        else:
            activation.busy = False

    def _enqueue(self, activation: Activation, envelope: Envelope) -> None:
        """Put a counted envelope in the agent's mailbox; start draining if the agent is idle."""
        queue = activation.queue
        if queue is None:
            queue = activation.queue = deque()
        queue.append(envelope)
        if not activation.busy:
            activation.busy = True
            self._get_loop().call_soon(self._drain, activation)

    def _drain(self, activation: Activation) -> None:
        """Start an agent's queued messages in order until one has to wait."""
        queue = activation.queue
        activation.draining = True
        try:
            for _ in range(_YIELD_EVERY):
                if activation.holders:
                    return  # a turn is running; its end drains again
                if not queue:
                    activation.busy = False
                    return
                envelope = queue.popleft()
                envelope.started = True
                reply = envelope.reply
                if reply is not None and reply.done():
                    self._finish_one()  # timed out or cancelled while queued
                    continue
                activation.holders = 1
                try:
                    task, result = self._start(
                        activation, envelope.message, envelope.ctx, envelope.frame, envelope.context, TURN
                    )
                except BaseException as e:
                    if reply is not None:
                        set_error(reply, e)
                    elif isinstance(e, Exception):
                        self._event_failed(activation.agent_id, envelope.message, e)
                    self._finish_one()
                    continue
                if task is None:
                    if reply is not None:
                        reply.set_result(result)
                    self._finish_one()
                    continue
                envelope.task = task
                task.add_done_callback(
                    partial(self._turn_done, activation, envelope.frame, TURN, reply, envelope.message)
                )
                # _turn_done counts this one finished; it was counted when it was queued
                return
            # Many in a row finished at once: let other tasks run before the next ones.
            self._get_loop().call_soon(self._drain, activation)
        finally:
            activation.draining = False

    def _event_failed(
        self, recipient: AgentId, message: Any, exc: BaseException, what: str = "raised while handling"
    ) -> None:
        logger.error("Agent %s %s a published %s", recipient, what, type(message).__name__, exc_info=exc)
        if event_logger.isEnabledFor(logging.INFO):
            event_logger.info(
                MessageHandlerExceptionEvent(payload=payload(self, message), handling_agent=recipient, exception=exc)
            )
        if not self._ignore_unhandled_exceptions and self._background_exception is None:
            self._background_exception = exc
            if self._idle_event is not None:
                self._idle_event.set()

    def _keep(self, task: asyncio.Task[Any]) -> None:
        """Hold a strong reference until the task ends: the event loop only keeps weak ones."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finish_one(self) -> None:
        self._outstanding -= 1
        if self._outstanding <= 0 and self._idle_event is not None:
            self._idle_event.set()

    async def _maybe_yield(self) -> None:
        self._sync_runs += 1
        if self._sync_runs >= _YIELD_EVERY:
            self._sync_runs = 0
            await asyncio.sleep(0)

    def _accept_pending(self, item: Envelope | PendingPublish) -> None:
        self._pending.append(item)
        self._outstanding += 1

    # ------------------------------------------------------------------ agents (see _agent_directory)

    def _activation(self, agent_id: AgentId) -> Activation:
        return self._directory.activation(agent_id)

    async def _get_agent(self, agent_id: AgentId) -> Agent:
        return await self._directory.agent(agent_id)

    def _fail_mailbox(self, activation: Activation, error: BaseException) -> None:
        """The agent could not be created: everything waiting for it fails with ``error``."""
        queue = activation.queue
        while queue:
            envelope = queue.popleft()
            envelope.started = True
            if envelope.reply is not None:
                set_error(envelope.reply, error)
            else:
                self._event_failed(activation.agent_id, envelope.message, error, "could not be created for")
            self._finish_one()

    async def register_factory(
        self,
        type: str | AgentType,
        agent_factory: Callable[[], T | Awaitable[T]],
        *,
        expected_class: type[T] | None = None,
        idle_timeout: float | None = None,
        max_live: int | None = None,
        persistent: bool | None = None,
    ) -> AgentType:
        """Register how to create agents of ``type``; instances are created on first use.

        Lifecycle options (docs/lifecycle.md), each defaulting to the runtime's setting:
        ``idle_timeout`` seconds without a message after which an agent is deactivated
        (``math.inf``: never); ``max_live`` agents of this type alive at once, the least
        recently used deactivated first; ``persistent=False`` keeps this type's state out
        of the runtime's ``state_store``.
        """
        return self._directory.register_factory(
            type, agent_factory, expected_class, idle_timeout=idle_timeout, max_live=max_live, persistent=persistent
        )

    async def register_agent_instance(self, agent_instance: Agent, agent_id: AgentId) -> AgentId:
        """Register an existing agent object as ``agent_id``. If binding it fails, nothing
        is registered."""
        return await self._directory.register_instance(agent_instance, agent_id)

    async def try_get_underlying_agent_instance(self, id: AgentId, type: type[T] = Agent) -> T:  # type: ignore[assignment]
        """The agent object behind ``id`` (created if needed); TypeError if it is not a ``type``."""
        agent = await self._get_agent(id)
        if not isinstance(agent, type):
            raise TypeError(
                f"Agent with name {id.type} is not of type {type.__name__}. It is of type {agent.__class__.__name__}"
            )
        return agent

    async def deactivate_agent(self, agent_id: AgentId) -> None:
        """Drop ``agent_id`` from memory as soon as it is idle (at once, if it is): its
        ``on_deactivate`` runs and its state is written (with a state store); the next
        message makes it again from its factory. Returns once it is gone; at once if it is
        not live. ValueError for a registered instance (docs/lifecycle.md)."""
        gone = self._lifecycle.deactivate_when_idle(agent_id)
        if gone is not None:
            await asyncio.shield(gone)

    def deactivate_when_idle(self, agent_id: AgentId) -> None:
        """``deactivate_agent`` without waiting (``BaseAgent.deactivate_when_idle`` calls this)."""
        self._lifecycle.deactivate_when_idle(agent_id)

    def schedule_message(self, agent_id: AgentId, message: Any, delay: float, *, period: float | None = None) -> Timer:
        """Deliver ``message`` to ``agent_id`` after ``delay`` seconds (then every ``period``
        seconds, if given) until the returned Timer is cancelled or the agent's activation
        ends (docs/lifecycle.md, "Timers and reminders"). ``BaseAgent.schedule`` calls this."""
        return self._lifecycle.scheduler.schedule(agent_id, message, delay, period)

    async def set_reminder(
        self, agent_id: AgentId, name: str, message: Any, delay: float, *, period: float | None = None
    ) -> None:
        """Store a reminder: ``message`` reaches ``agent_id`` after ``delay`` seconds (then
        every ``period`` seconds), activating it if need be, across deactivations and
        restarts. Needs a ``state_store``. Setting a name again replaces that reminder."""
        await self._lifecycle.scheduler.set_reminder(agent_id, name, message, delay, period)

    async def cancel_reminder(self, agent_id: AgentId, name: str) -> None:
        """Delete a reminder (nothing happens if there is none by that name)."""
        await self._lifecycle.scheduler.cancel_reminder(agent_id, name)

    @overload
    async def get(self, id_or_type: AgentId, /, *, lazy: bool = ...) -> AgentId: ...

    @overload
    async def get(self, id_or_type: AgentType | str, /, key: str = ..., *, lazy: bool = ...) -> AgentId: ...

    async def get(
        self, id_or_type: AgentId | AgentType | str, /, key: str = "default", *, lazy: bool = True
    ) -> AgentId:
        agent_id = id_or_type if isinstance(id_or_type, AgentId) else AgentId(id_or_type, key)
        if not lazy:
            await self._get_agent(agent_id)
        return agent_id

    async def agent_metadata(self, agent: AgentId) -> AgentMetadata:
        return (await self._get_agent(agent)).metadata

    async def agent_save_state(self, agent: AgentId) -> Mapping[str, Any]:
        return await (await self._get_agent(agent)).save_state()

    async def agent_load_state(self, agent: AgentId, state: Mapping[str, Any]) -> None:
        await (await self._get_agent(agent)).load_state(state)

    async def save_state(self) -> Mapping[str, Any]:
        """``{"type/key": agent_state}`` for every agent that exists now."""
        return await self._directory.save_state()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Load a ``save_state()`` snapshot. Every entry is checked before any is applied;
        if an agent's own ``load_state`` fails, the agents already loaded get their previous
        state back, and the error is raised."""
        await self._directory.load_state(state)

    # ------------------------------------------------------------------ subscriptions, serializers

    async def add_subscription(self, subscription: Subscription) -> None:
        self._subscription_manager.add_subscription(subscription)

    async def remove_subscription(self, id: str) -> None:
        self._subscription_manager.remove_subscription(id)

    def add_message_serializer(self, serializer: MessageSerializer[Any] | Sequence[MessageSerializer[Any]]) -> None:
        self._serialization_registry.add_serializer(serializer)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start delivering messages (needs a running event loop)."""
        if self._started:
            raise RuntimeError("Runtime is already started")
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._started = True
        self._background_exception = None
        self._tracer = resolve_tracer(self._tracer_provider, "SingleThreadedAgentRuntime")
        if self._pending:
            self._flush_task = loop.create_task(self._flush_pending())
        else:
            self._running = True
        self._lifecycle.started()  # lifecycle hook: arms stored reminders

    async def _flush_pending(self) -> None:
        """Deliver what was sent before start(), in order, then accept messages directly."""
        try:
            while self._pending and self._started:
                self._deliver_pending(self._pending.popleft())
                await self._maybe_yield()
        finally:
            self._flush_task = None
            if self._started:
                self._running = True

    def _deliver_pending(self, item: Envelope | PendingPublish) -> None:
        if isinstance(item, Envelope):
            self._enqueue(item.activation, item)  # stays counted until it has run
            return
        try:
            recipients = self._subscription_manager.recipients(item.topic_id)
            self._fan_out(item.message, item.topic_id, recipients, item.sender, item.token, item.message_id)
        finally:
            self._finish_one()

    async def process_next(self) -> None:
        """Deliver the oldest message sent while the runtime was not started (for stepping tests)."""
        if self._pending:
            self._deliver_pending(self._pending.popleft())
        await asyncio.sleep(0)

    async def _process_next(self) -> None:
        """``process_next()`` under the name autogen_core's own tests use."""
        await self.process_next()

    async def stop(self) -> None:
        """Stop accepting deliveries; queued requests fail with RuntimeStoppedError.

        Handlers already running finish on their own. Messages sent after stop() wait
        until the next start(). Raises the first event-handler exception when the runtime
        was created with ``ignore_unhandled_exceptions=False``.
        """
        if not self._started:
            raise RuntimeError("Runtime is not started")
        self._started = False
        self._running = False
        if self._flush_task is not None:
            self._flush_task.cancel()
            self._flush_task = None
        dropped: dict[str, int] = {}
        for activation in [*self._activations.values(), *self._creating.values()]:
            queue = activation.queue
            while queue:
                self._fail_stopped(queue.popleft(), dropped)
        while self._pending:
            self._fail_stopped(self._pending.popleft(), dropped)
        if dropped:
            summary = ", ".join(f"{count} {name}" for name, count in sorted(dropped.items()))
            logger.warning(
                "Runtime stopped: dropped %d undelivered published messages (%s)", sum(dropped.values()), summary
            )
        if self._idle_event is not None:
            self._idle_event.set()  # stop_when_idle() callers return: there is nothing left to wait for
        exc, self._background_exception = self._background_exception, None
        if exc is not None:
            raise exc

    def _fail_stopped(self, item: Envelope | PendingPublish, dropped: dict[str, int]) -> None:
        if isinstance(item, Envelope):
            item.started = True
            if item.reply is not None:
                if not item.reply.done():
                    item.reply.set_exception(
                        RuntimeStoppedError(f"The runtime stopped before the request to {item.recipient} was delivered")
                    )
                self._finish_one()
                return
        name = type(item.message).__name__
        dropped[name] = dropped.get(name, 0) + 1
        self._finish_one()

    async def stop_when_idle(self) -> None:
        """Wait until no message is queued or being handled, then stop.

        Returns without error if the runtime was stopped meanwhile (by an agent, say).
        Several callers may wait at once; all of them return.
        """
        if not self._started:
            raise RuntimeError("Runtime is not started")
        while self._started and self._outstanding > 0 and self._background_exception is None:
            if self._idle_event is None or self._idle_event.is_set():
                self._idle_event = asyncio.Event()
            await self._idle_event.wait()
        if self._started:
            await self.stop()

    async def stop_when(self, condition: Callable[[], bool], check_period: float = 0.05) -> None:
        """Stop once ``condition()`` is true (checked every ``check_period`` seconds)."""
        if not self._started:
            raise RuntimeError("Runtime is not started")
        while self._started and not condition() and self._background_exception is None:
            await asyncio.sleep(check_period)
        if self._started:
            await self.stop()

    async def close(self) -> None:
        """Stop if started, cancel handlers still running, then close every agent.

        While closing, new requests and publishes fail at once with RuntimeStoppedError
        (so a cancelled handler that sends in ``finally:`` cannot hold close() up), and
        callers of cancelled handlers get RuntimeStoppedError. Errors from closing agents
        are logged, not raised.
        """
        if self._started:
            await self.stop()
        self._closing = True
        try:
            running = [task for task in self._tasks if not task.done()]
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
            await self._lifecycle.close()  # lifecycle hook: on_deactivate, last state writes
            for agent_id, activation in list(self._activations.items()):
                try:
                    await activation.agent.close()
                except Exception:
                    logger.exception("Error closing agent %s", agent_id)
        finally:
            self._closing = False


__all__ = ["SingleThreadedAgentRuntime", "DEFAULT_TIMEOUT"]
