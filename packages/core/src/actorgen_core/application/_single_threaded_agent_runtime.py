"""The in-process runtime: every agent is an actor with its own mailbox, on one event loop.

How a delivery runs (docs/semantics.md has the user-facing contract):

* Each AgentId handles one message at a time, in arrival order. Every live agent has an
  ``Activation`` (see ``_delivery``) that says whether a turn is running; a message for a
  busy agent waits in its mailbox (a deque created on demand), drained in order when the
  current turn ends.
* A message for an idle agent starts at once, in the sender's task: its handler's first
  step runs directly (see ``_eager``), and only a handler that actually waits gets a task.
  A request whose handler finishes without waiting costs no task, no queue hop and no
  timer.
* Call-chain reentrancy: a request whose call chain already contains the recipient (A is
  waiting on B, and B asks A) enters at once instead of waiting behind A's own turn.
* Every request has a deadline: the caller's ``timeout`` or the runtime default, never
  later than the deadline of the request being handled. A timer exists only while a reply
  is actually awaited.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import math
import secrets
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import copy_context
from functools import partial
from typing import Any, TypeVar, cast, overload

from opentelemetry.trace import TracerProvider

from ..base import (
    Agent,
    AgentId,
    AgentInstantiationContext,
    AgentMetadata,
    AgentRuntime,
    AgentType,
    CancellationToken,
    InterventionHandler,
    MessageContext,
    MessageSerializer,
    Subscription,
    TopicId,
    try_get_known_serializers_for_type,
)
from ..base._constants import EVENT_LOGGER_NAME, ROOT_LOGGER_NAME
from ..base._contexts import CURRENT_FRAME, FRAME_ACTIVE, FRAME_DEADLINE, FRAME_PARENT, CallFrame
from ..base._serialization import JSON_DATA_CONTENT_TYPE, SerializationRegistry
from ..base._validation import check_agent_type
from ..base.exceptions import (
    AgentNotFoundError,
    MessageDroppedException,
    RequestTimeoutError,
    RuntimeStoppedError,
)
from ..logging import (
    AgentConstructionExceptionEvent,
    DeliveryStage,
    MessageDroppedEvent,
    MessageEvent,
    MessageHandlerExceptionEvent,
    MessageKind,
)
from ._delivery import (
    Activation,
    Envelope,
    PendingPublish,
    cancel_future,
    cancel_task_if_abandoned,
    expire,
    is_drop,
    set_error,
    stop_callee_if_abandoned,
    transfer,
)
from ._eager import first_step, resume
from ._subscription_manager import SubscriptionManager
from ._telemetry import NULL_SPAN, resolve_tracer, runtime_span

logger = logging.getLogger(ROOT_LOGGER_NAME)
event_logger = logging.getLogger(EVENT_LOGGER_NAME)

T = TypeVar("T", bound=Agent)

DEFAULT_TIMEOUT = 60.0
"""Seconds a request waits for its reply unless the caller or the runtime says otherwise."""

_YIELD_EVERY = 16
"""Deliveries that finish without waiting, after which a sender yields to the event loop once."""

_MAX_EAGER_DEPTH = 32
"""Deliveries nested inside each other's first steps run inline up to this depth; deeper ones
start on a fresh stack (a task, or the mailbox for events), so that long chains of requests or
ping-pong publishes never reach the interpreter's recursion limit."""

_INFO = logging.INFO


def _waits_on(frame: CallFrame | None, turn: CallFrame | None) -> bool:
    """Whether the request chain ending in ``frame`` passes through the running ``turn``.

    That is call-chain reentrancy: the agent running ``turn`` is (indirectly) waiting for
    this request, so it must be let in now or the chain deadlocks.
    """
    while frame is not None and frame[FRAME_ACTIVE]:
        if frame is turn:
            return True
        frame = frame[FRAME_PARENT]
    return False


class _FactoryEntry:
    __slots__ = ("expected_class", "factory")

    def __init__(self, factory: Callable[[], Any] | None, expected_class: type | None) -> None:
        self.factory = factory  # None: the type only has registered instances
        self.expected_class = expected_class


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
    """

    def __init__(
        self,
        *,
        intervention_handlers: list[InterventionHandler] | None = None,
        tracer_provider: TracerProvider | None = None,
        ignore_unhandled_exceptions: bool = True,
        default_timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        if default_timeout is not None and not default_timeout > 0:
            raise ValueError(f"default_timeout must be a positive number of seconds or None, got {default_timeout!r}")
        self._intervention_handlers: list[InterventionHandler] = list(intervention_handlers or [])
        self._tracer_provider = tracer_provider
        self._tracer = resolve_tracer(tracer_provider, "SingleThreadedAgentRuntime")
        self._ignore_unhandled_exceptions = ignore_unhandled_exceptions
        self._default_timeout = default_timeout
        self._factories: dict[str, _FactoryEntry] = {}
        self._instance_classes: dict[str, type] = {}
        self._activations: dict[AgentId, Activation] = {}
        self._creating: dict[AgentId, asyncio.Future[Activation]] = {}
        self._subscription_manager = SubscriptionManager()
        self._serialization_registry = SerializationRegistry()
        self._started = False
        self._running = False
        self._pending: deque[Envelope | PendingPublish] = deque()
        self._outstanding = 0
        self._idle_event: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flush_task: asyncio.Task[None] | None = None
        self._background_exception: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._id_prefix = secrets.token_hex(6)
        self._id_counter = itertools.count(1)
        self._sync_runs = 0
        self._eager_depth = 0

    # ------------------------------------------------------------------ introspection

    @property
    def unprocessed_messages_count(self) -> int:
        """Messages accepted but not yet started (pre-start queue plus all mailboxes)."""
        return len(self._pending) + sum(len(a.queue) for a in self._activations.values() if a.queue)

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
        if recipient.__class__ is not AgentId and not isinstance(recipient, AgentId):
            raise TypeError(f"recipient must be an AgentId, got {type(recipient).__name__}")
        if recipient.type not in self._factories:
            raise AgentNotFoundError(
                f"Recipient not found: no agent type {recipient.type!r} is registered with this runtime"
            )
        loop = self._loop or self._get_loop()
        if timeout is None:
            timeout = self._default_timeout
        elif not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        now = loop.time()
        deadline = None if timeout is None or timeout == math.inf else now + timeout
        parent = CURRENT_FRAME.get(None)
        if parent is not None:
            if parent[FRAME_ACTIVE]:
                inherited = parent[FRAME_DEADLINE]
                if inherited is not None and (deadline is None or inherited < deadline):
                    deadline = inherited
                    if deadline <= now:
                        raise RequestTimeoutError(
                            f"Request to {recipient} not sent: the deadline of the request being handled has passed"
                        )
            else:
                parent = None  # a task its handler left behind: it starts a chain of its own
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError(f"Request to {recipient} cancelled before it was sent")
        ctx = MessageContext(
            sender, None, True, CancellationToken(), message_id if message_id is not None else self._new_message_id()
        )
        if self._intervention_handlers or self._tracer is not None or event_logger.isEnabledFor(_INFO):
            return await self._send_observed(message, recipient, ctx, parent, deadline, cancellation_token)
        return await self._send(message, recipient, ctx, parent, deadline, cancellation_token)

    async def _send(
        self,
        message: Any,
        recipient: AgentId,
        ctx: MessageContext,
        parent: CallFrame | None,
        deadline: float | None,
        parent_token: CancellationToken | None,
    ) -> Any:
        activation = self._activations.get(recipient)
        if activation is None:
            activation = await self._activate(recipient)
        frame: CallFrame = [recipient, deadline, parent, True]
        if not self._running:
            return await self._queue_request(message, ctx, activation, frame, parent_token, pending=True)
        if activation.busy:
            if type(message) not in activation.interleaved and not _waits_on(parent, activation.frame):
                return await self._queue_request(message, ctx, activation, frame, parent_token, pending=False)
            occupies = False  # reentrant or interleaved: runs beside the current turn
        else:
            occupies = type(message) not in activation.interleaved
            if occupies:
                activation.busy = True
                activation.frame = frame
        context = copy_context()
        coro = (
            activation.entry(activation.agent, message, ctx)
            if self._tracer is None
            else self._traced(activation.agent, message, ctx)
        )
        if self._eager_depth >= _MAX_EAGER_DEPTH:
            # Deep inside nested inline deliveries: start on a fresh stack instead.
            context.run(CURRENT_FRAME.set, frame)
            task = self._get_loop().create_task(coro, context=context)
            self._keep(task)
        else:
            self._eager_depth += 1
            try:
                yielded = context.run(first_step, coro, frame)
            except StopIteration as stop:
                self._eager_depth -= 1
                frame[FRAME_ACTIVE] = False
                if occupies:
                    if activation.queue:  # messages arrived during the turn: hand over to the mailbox
                        self._get_loop().call_soon(self._drain, activation)
                    else:
                        activation.busy = False
                        activation.frame = None
                self._sync_runs += 1
                if self._sync_runs >= _YIELD_EVERY:
                    self._sync_runs = 0
                    await asyncio.sleep(0)
                return stop.value
            except BaseException:
                self._eager_depth -= 1
                frame[FRAME_ACTIVE] = False
                if occupies:
                    self._release(activation)
                raise
            self._eager_depth -= 1
            task = self._get_loop().create_task(resume(coro, yielded), context=context)
            self._keep(task)
        self._outstanding += 1
        reply: asyncio.Future[Any] = self._get_loop().create_future()
        task.add_done_callback(partial(self._inline_done, activation, occupies, frame, reply))
        return await self._await_reply(reply, task, recipient, ctx.cancellation_token, parent_token, deadline)

    def _inline_done(
        self,
        activation: Activation,
        occupies: bool,
        frame: CallFrame,
        reply: asyncio.Future[Any],
        task: asyncio.Task[Any],
    ) -> None:
        frame[FRAME_ACTIVE] = False
        if occupies:
            self._release(activation)
        transfer(task, reply, activation.agent_id)
        self._finish_one()

    async def _queue_request(
        self,
        message: Any,
        ctx: MessageContext,
        activation: Activation,
        frame: CallFrame,
        parent_token: CancellationToken | None,
        *,
        pending: bool,
    ) -> Any:
        reply: asyncio.Future[Any] = self._get_loop().create_future()
        envelope = Envelope(message, ctx, activation, reply, frame, copy_context())
        self._outstanding += 1
        if pending:
            self._pending.append(envelope)
        else:
            self._mailbox_append(envelope)
        return await self._await_reply(
            reply, None, activation.agent_id, ctx.cancellation_token, parent_token, frame[FRAME_DEADLINE]
        )

    async def _await_reply(
        self,
        reply: asyncio.Future[Any],
        task: asyncio.Task[Any] | None,
        recipient: AgentId,
        callee_token: CancellationToken,
        parent_token: CancellationToken | None,
        deadline: float | None,
    ) -> Any:
        """Wait for ``reply`` until the deadline; whatever ends the wait early stops the callee."""
        loop = self._get_loop()
        reply.add_done_callback(partial(stop_callee_if_abandoned, callee_token, task))
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

    async def _send_observed(
        self,
        message: Any,
        recipient: AgentId,
        ctx: MessageContext,
        parent: CallFrame | None,
        deadline: float | None,
        parent_token: CancellationToken | None,
    ) -> Any:
        """The send path when interventions, tracing or the event log are active."""
        events = event_logger.isEnabledFor(_INFO)
        if events:
            self._log_message(message, ctx.sender, recipient, MessageKind.DIRECT, DeliveryStage.SEND)
        tracer = self._tracer
        with runtime_span(tracer, "send", recipient, message) if tracer is not None else NULL_SPAN:
            for handler in self._intervention_handlers:
                with runtime_span(tracer, "intercept", type(handler).__name__) if tracer is not None else NULL_SPAN:
                    result = await handler.on_send(message, message_context=ctx, recipient=recipient)
                if is_drop(result):
                    if events:
                        event_logger.info(
                            MessageDroppedEvent(
                                payload=self._payload(message),
                                sender=ctx.sender,
                                receiver=recipient,
                                kind=MessageKind.DIRECT,
                            )
                        )
                    raise MessageDroppedException(
                        f"Request to {recipient} dropped by intervention handler {type(handler).__name__}"
                    )
                if result is None:
                    warnings.warn(
                        f"Intervention handler {type(handler).__name__}.on_send returned None; "
                        "return the message (or DropMessage) instead",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                message = result
            if events:
                self._log_message(message, ctx.sender, recipient, MessageKind.DIRECT, DeliveryStage.DELIVER)
            response = await self._send(message, recipient, ctx, parent, deadline, parent_token)
            if events:
                self._log_message(response, recipient, ctx.sender, MessageKind.RESPOND, DeliveryStage.SEND)
            for handler in self._intervention_handlers:
                result = await handler.on_response(response, sender=recipient, recipient=ctx.sender)
                if is_drop(result):
                    if events:
                        event_logger.info(
                            MessageDroppedEvent(
                                payload=self._payload(response),
                                sender=recipient,
                                receiver=ctx.sender,
                                kind=MessageKind.RESPOND,
                            )
                        )
                    raise MessageDroppedException(
                        f"Response from {recipient} dropped by intervention handler {type(handler).__name__}"
                    )
                response = result
            if events:
                self._log_message(response, recipient, ctx.sender, MessageKind.RESPOND, DeliveryStage.DELIVER)
            return response

    async def _traced(self, agent: Agent, message: Any, ctx: MessageContext) -> Any:
        assert self._tracer is not None
        with runtime_span(self._tracer, "process", agent.id, message):
            return await agent.on_message(message, ctx)

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
        token = cancellation_token if cancellation_token is not None else CancellationToken()
        if message_id is None:
            message_id = self._new_message_id()
        if self._intervention_handlers or self._tracer is not None or event_logger.isEnabledFor(_INFO):
            await self._publish_observed(message, topic_id, sender, token, message_id)
            return
        if not self._running:
            self._pending.append(PendingPublish(message, topic_id, sender, token, message_id))
            self._outstanding += 1
            return
        await self._publish_now(message, topic_id, sender, token, message_id, False)
        self._sync_runs += 1
        if self._sync_runs >= _YIELD_EVERY:
            self._sync_runs = 0
            await asyncio.sleep(0)

    async def _publish_observed(
        self,
        message: Any,
        topic_id: TopicId,
        sender: AgentId | None,
        token: CancellationToken,
        message_id: str,
    ) -> None:
        events = event_logger.isEnabledFor(_INFO)
        if events:
            self._log_message(message, sender, topic_id, MessageKind.PUBLISH, DeliveryStage.SEND)
        tracer = self._tracer
        with runtime_span(tracer, "publish", topic_id, message) if tracer is not None else NULL_SPAN:
            if self._intervention_handlers:
                ctx = MessageContext(sender, topic_id, False, token, message_id)
                for handler in self._intervention_handlers:
                    with runtime_span(tracer, "intercept", type(handler).__name__) if tracer is not None else NULL_SPAN:
                        result = await handler.on_publish(message, message_context=ctx)
                    if is_drop(result):
                        if events:
                            event_logger.info(
                                MessageDroppedEvent(
                                    payload=self._payload(message),
                                    sender=sender,
                                    receiver=topic_id,
                                    kind=MessageKind.PUBLISH,
                                )
                            )
                        return
                    message = result
            if not self._running:
                self._pending.append(PendingPublish(message, topic_id, sender, token, message_id))
                self._outstanding += 1
                return
            await self._publish_now(message, topic_id, sender, token, message_id, events)

    async def _publish_now(
        self,
        message: Any,
        topic_id: TopicId,
        sender: AgentId | None,
        token: CancellationToken,
        message_id: str,
        events: bool,
    ) -> None:
        # The fan-out loop is the hottest path of a publish-heavy application: everything
        # loop-invariant is hoisted, and a delivery to an idle agent whose handler does not
        # wait costs one dict lookup, one context copy and one coroutine step.
        activations = self._activations
        message_type = type(message)
        traced = self._tracer is not None
        too_deep = self._eager_depth >= _MAX_EAGER_DEPTH
        for recipient in self._subscription_manager.recipients(topic_id):
            if sender is not None and recipient == sender:
                continue
            activation = activations.get(recipient)
            if activation is None:
                try:
                    activation = await self._activate(recipient)
                except Exception as e:
                    self._event_failed(recipient, message, e, "could not be created for")
                    continue
            if events:
                self._log_message(message, sender, None, MessageKind.PUBLISH, DeliveryStage.DELIVER)
            ctx = MessageContext(sender, topic_id, False, token, message_id)
            occupies = message_type not in activation.interleaved
            frame: CallFrame = [recipient, None, None, True]
            if occupies and (activation.busy or too_deep):
                self._outstanding += 1
                self._mailbox_append(Envelope(message, ctx, activation, None, frame, copy_context()))
                continue
            if occupies:
                activation.busy = True
                activation.frame = frame
            context = copy_context()
            agent = activation.agent
            coro = activation.entry(agent, message, ctx) if not traced else self._traced(agent, message, ctx)
            self._eager_depth += 1
            try:
                yielded = context.run(first_step, coro, frame)
            except StopIteration:
                frame[FRAME_ACTIVE] = False
                if occupies:
                    if activation.queue:
                        self._get_loop().call_soon(self._drain, activation)
                    else:
                        activation.busy = False
                        activation.frame = None
                continue
            except BaseException as e:
                frame[FRAME_ACTIVE] = False
                if occupies:
                    self._release(activation)
                self._event_failed(recipient, message, e)
                continue
            finally:
                self._eager_depth -= 1
            task = self._get_loop().create_task(resume(coro, yielded), context=context)
            self._keep(task)
            self._outstanding += 1
            task.add_done_callback(partial(self._event_task_done, activation, occupies, frame, message))

    def _event_task_done(
        self, activation: Activation, occupies: bool, frame: CallFrame, message: Any, task: asyncio.Task[Any]
    ) -> None:
        frame[FRAME_ACTIVE] = False
        if occupies:
            self._release(activation)
        if task.cancelled():
            logger.debug("Event handler of %s was cancelled", activation.agent_id)
        else:
            exc = task.exception()
            if exc is not None:
                self._event_failed(activation.agent_id, message, exc)
        self._finish_one()

    def _event_failed(
        self, recipient: AgentId, message: Any, exc: BaseException, what: str = "raised while handling"
    ) -> None:
        logger.error("Agent %s %s a published %s", recipient, what, type(message).__name__, exc_info=exc)
        if event_logger.isEnabledFor(_INFO):
            event_logger.info(
                MessageHandlerExceptionEvent(payload=self._payload(message), handling_agent=recipient, exception=exc)
            )
        if not self._ignore_unhandled_exceptions and self._background_exception is None:
            self._background_exception = exc
            if self._idle_event is not None:
                self._idle_event.set()

    # ------------------------------------------------------------------ mailboxes

    def _mailbox_append(self, envelope: Envelope) -> None:
        """Queue a counted envelope; start draining if its agent is idle."""
        activation = envelope.activation
        queue = activation.queue
        if queue is None:
            queue = activation.queue = deque()
        queue.append(envelope)
        if not activation.busy:
            activation.busy = True
            self._get_loop().call_soon(self._drain, activation)

    def _release(self, activation: Activation) -> None:
        """The current turn of an agent ended: free it, or start its next message."""
        if activation.queue:
            self._get_loop().call_soon(self._drain, activation)
        else:
            activation.busy = False
            activation.frame = None

    def _drain(self, activation: Activation) -> None:
        """Start an agent's queued messages in order until one has to wait."""
        queue = activation.queue
        budget = _YIELD_EVERY
        agent = activation.agent
        while queue:
            if budget == 0:
                self._get_loop().call_soon(self._drain, activation)
                return
            budget -= 1
            envelope = queue.popleft()
            reply = envelope.reply
            if reply is not None and reply.done():  # timed out or cancelled while waiting
                self._finish_one()
                continue
            coro = (
                activation.entry(agent, envelope.message, envelope.ctx)
                if self._tracer is None
                else self._traced(agent, envelope.message, envelope.ctx)
            )
            activation.frame = envelope.frame
            self._eager_depth += 1
            try:
                yielded = envelope.context.run(first_step, coro, envelope.frame)
            except StopIteration as stop:
                self._eager_depth -= 1
                envelope.frame[FRAME_ACTIVE] = False
                if reply is not None:
                    reply.set_result(stop.value)
                self._finish_one()
                continue
            except BaseException as e:
                self._eager_depth -= 1
                envelope.frame[FRAME_ACTIVE] = False
                if reply is not None:
                    set_error(reply, e)
                else:
                    self._event_failed(activation.agent_id, envelope.message, e)
                self._finish_one()
                continue
            self._eager_depth -= 1
            task = self._get_loop().create_task(resume(coro, yielded), context=envelope.context)
            self._keep(task)
            if reply is not None:
                reply.add_done_callback(partial(cancel_task_if_abandoned, task))
            task.add_done_callback(partial(self._queued_done, envelope))
            return
        activation.busy = False
        activation.frame = None

    def _queued_done(self, envelope: Envelope, task: asyncio.Task[Any]) -> None:
        envelope.frame[FRAME_ACTIVE] = False
        if envelope.reply is not None:
            transfer(task, envelope.reply, envelope.recipient)
        elif task.cancelled():
            logger.debug("Event handler of %s was cancelled", envelope.recipient)
        elif (exc := task.exception()) is not None:
            self._event_failed(envelope.recipient, envelope.message, exc)
        self._finish_one()
        self._drain(envelope.activation)

    def _keep(self, task: asyncio.Task[Any]) -> None:
        """Hold a strong reference until the task ends: the event loop only keeps weak ones."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finish_one(self) -> None:
        self._outstanding -= 1
        if self._outstanding <= 0 and self._idle_event is not None:
            self._idle_event.set()

    def _fail_stopped(self, envelope: Envelope) -> None:
        if envelope.reply is not None and not envelope.reply.done():
            envelope.reply.set_exception(
                RuntimeStoppedError(f"The runtime stopped before the request to {envelope.recipient} was delivered")
            )
        elif envelope.reply is None:
            logger.warning(
                "Runtime stopped: dropped an undelivered %s for %s", type(envelope.message).__name__, envelope.recipient
            )
        self._finish_one()

    # ------------------------------------------------------------------ agents

    async def _get_agent(self, agent_id: AgentId) -> Agent:
        return (await self._activate(agent_id)).agent

    async def _activate(self, agent_id: AgentId) -> Activation:
        """The live agent for ``agent_id``, created from its factory on first use (once)."""
        activation = self._activations.get(agent_id)
        if activation is not None:
            return activation
        creating = self._creating.get(agent_id)
        if creating is not None:
            return await asyncio.shield(creating)
        entry = self._factories.get(agent_id.type)
        if entry is None:
            raise AgentNotFoundError(f"Agent type {agent_id.type!r} is not registered with this runtime")
        if entry.factory is None:
            raise AgentNotFoundError(
                f"Agent type {agent_id.type!r} has only registered instances, and {agent_id} is not one of them"
            )
        future: asyncio.Future[Activation] | None = None
        try:
            with AgentInstantiationContext.populate_context((self, agent_id)):
                result = entry.factory()
                if inspect.isawaitable(result):
                    # Other first messages for this id wait for this creation instead of repeating it.
                    future = self._creating[agent_id] = self._get_loop().create_future()
                    result = await result
            expected = entry.expected_class
            if expected is not None and not isinstance(result, expected):
                raise ValueError(
                    f"Factory registered using the wrong type: expected {expected.__name__}, "
                    f"got {type(result).__name__}"
                )
            if not callable(getattr(result, "on_message", None)):
                raise TypeError(
                    f"Factory for {agent_id.type!r} returned {type(result).__name__}, which is not an Agent"
                )
            activation = Activation(agent_id, cast(Agent, result))
        except BaseException as e:
            if future is not None:
                del self._creating[agent_id]
                set_error(future, e)
                if not future.cancelled():
                    future.exception()  # waiters re-raise it; don't report it as never retrieved
            if event_logger.isEnabledFor(_INFO):
                event_logger.info(AgentConstructionExceptionEvent(agent_id=agent_id, exception=e))
            logger.error("Error constructing agent %s", agent_id, exc_info=e)
            raise
        self._activations[agent_id] = activation
        if future is not None:
            del self._creating[agent_id]
            future.set_result(activation)
        return activation

    async def register_factory(
        self,
        type: str | AgentType,
        agent_factory: Callable[[], T | Awaitable[T]],
        *,
        expected_class: type[T] | None = None,
    ) -> AgentType:
        """Register how to create agents of ``type``; instances are created on first use."""
        name = type.type if isinstance(type, AgentType) else type
        check_agent_type(name)
        if not callable(agent_factory):
            raise TypeError(f"agent_factory must be callable, got {agent_factory!r}")
        if name in self._factories:
            raise ValueError(f"Agent with type {name!r} already exists.")
        self._factories[name] = _FactoryEntry(agent_factory, expected_class)
        return AgentType(name)

    async def register_agent_instance(self, agent_instance: Agent, agent_id: AgentId) -> AgentId:
        """Register an existing agent object as ``agent_id``."""
        if agent_id in self._activations:
            raise ValueError(f"Agent with id {agent_id} already exists.")
        entry = self._factories.get(agent_id.type)
        if entry is None:
            self._factories[agent_id.type] = _FactoryEntry(None, None)
            self._instance_classes[agent_id.type] = type(agent_instance)
        elif entry.factory is not None:
            raise ValueError(
                f"Agent type {agent_id.type!r} is registered with a factory; factories and instances "
                "cannot be registered to the same type."
            )
        elif self._instance_classes[agent_id.type] is not type(agent_instance):
            raise ValueError(
                f"Instances of agent type {agent_id.type!r} must be the same object type "
                f"({self._instance_classes[agent_id.type].__name__})"
            )
        await agent_instance.bind_id_and_runtime(id=agent_id, runtime=self)
        self._activations[agent_id] = Activation(agent_id, agent_instance)
        return agent_id

    async def try_get_underlying_agent_instance(self, id: AgentId, type: type[T] = Agent) -> T:  # type: ignore[assignment]
        """The agent object behind ``id`` (created if needed); TypeError if it is not a ``type``."""
        agent = await self._get_agent(id)
        if not isinstance(agent, type):
            raise TypeError(
                f"Agent with name {id.type} is not of type {type.__name__}. It is of type {agent.__class__.__name__}"
            )
        return agent

    @overload
    async def get(self, id_or_type: AgentId, /, *, lazy: bool = ...) -> AgentId: ...

    @overload
    async def get(self, id_or_type: AgentType | str, /, key: str = ..., *, lazy: bool = ...) -> AgentId: ...

    async def get(
        self, id_or_type: AgentId | AgentType | str, /, key: str = "default", *, lazy: bool = True
    ) -> AgentId:
        if isinstance(id_or_type, AgentId):
            agent_id = id_or_type
        else:
            agent_id = AgentId(id_or_type, key)
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
        return {
            str(agent_id): dict(await activation.agent.save_state())
            for agent_id, activation in list(self._activations.items())
        }

    async def load_state(self, state: Mapping[str, Any]) -> None:
        for key, agent_state in state.items():
            agent_id = AgentId.from_str(key)
            if agent_id.type not in self._factories:
                logger.warning("load_state: skipped %s, agent type %r is not registered", key, agent_id.type)
                continue
            await (await self._get_agent(agent_id)).load_state(agent_state)

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

    async def _flush_pending(self) -> None:
        """Deliver what was sent before start(), in order, then accept messages directly."""
        try:
            while self._pending and self._started:
                await self._deliver_pending(self._pending.popleft())
        finally:
            self._flush_task = None
            if self._started:
                self._running = True

    async def _deliver_pending(self, item: Envelope | PendingPublish) -> None:
        if isinstance(item, Envelope):
            self._mailbox_append(item)  # stays counted until it has run
            return
        try:
            await self._publish_now(item.message, item.topic_id, item.sender, item.token, item.message_id, False)
        finally:
            self._finish_one()

    async def process_next(self) -> None:
        """Deliver the oldest message sent while the runtime was not started (for stepping tests)."""
        if self._pending:
            await self._deliver_pending(self._pending.popleft())
        await asyncio.sleep(0)

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
        for activation in list(self._activations.values()):
            queue = activation.queue
            while queue:
                self._fail_stopped(queue.popleft())
        while self._pending:
            item = self._pending.popleft()
            if isinstance(item, Envelope):
                self._fail_stopped(item)
            else:
                self._finish_one()
        exc, self._background_exception = self._background_exception, None
        if exc is not None:
            raise exc

    async def stop_when_idle(self) -> None:
        """Wait until no message is queued or being handled, then stop."""
        if not self._started:
            raise RuntimeError("Runtime is not started")
        while self._outstanding > 0 and self._background_exception is None:
            self._idle_event = asyncio.Event()
            if self._outstanding <= 0:
                break
            await self._idle_event.wait()
        self._idle_event = None
        await self.stop()

    async def stop_when(self, condition: Callable[[], bool], check_period: float = 0.05) -> None:
        """Stop once ``condition()`` is true (checked every ``check_period`` seconds)."""
        if not self._started:
            raise RuntimeError("Runtime is not started")
        while not condition() and self._background_exception is None:
            await asyncio.sleep(check_period)
        await self.stop()

    async def close(self) -> None:
        """Stop if started, cancel handlers still running, then close every agent.

        Errors from closing agents are logged, not raised.
        """
        if self._started:
            await self.stop()
        running = [task for task in self._tasks if not task.done()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        for agent_id, activation in list(self._activations.items()):
            agent = activation.agent
            try:
                await agent.close()
            except Exception:
                logger.exception("Error closing agent %s", agent_id)

    # ------------------------------------------------------------------ logging helpers

    def _payload(self, message: Any) -> str:
        try:
            name = self._serialization_registry.type_name(message)
            if self._serialization_registry.is_registered(name, JSON_DATA_CONTENT_TYPE):
                return self._serialization_registry.serialize(
                    message, type_name=name, data_content_type=JSON_DATA_CONTENT_TYPE
                ).decode("utf-8", "replace")
            serializers = try_get_known_serializers_for_type(type(message))
            if serializers and serializers[0].data_content_type == JSON_DATA_CONTENT_TYPE:
                return serializers[0].serialize(message).decode("utf-8", "replace")
        except Exception:
            pass
        text = repr(message)
        return text if len(text) <= 2000 else text[:2000] + "..."

    def _log_message(
        self,
        message: Any,
        sender: AgentId | None,
        receiver: AgentId | TopicId | None,
        kind: MessageKind,
        stage: DeliveryStage,
    ) -> None:
        event_logger.info(
            MessageEvent(
                payload=self._payload(message), sender=sender, receiver=receiver, kind=kind, delivery_stage=stage
            )
        )


__all__ = ["SingleThreadedAgentRuntime", "DEFAULT_TIMEOUT"]
