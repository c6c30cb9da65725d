"""The delivery paths taken when someone watches: interventions, tracing, the event log.

The runtime takes these paths only when an intervention handler is registered, a tracer
is active or the ``actorgen_core.events`` logger listens at INFO; otherwise it never
builds a span, an event or a payload string. Spans follow autogen_core's set (names
prefixed ``actorgen``): a request makes ``create`` (around the whole call), ``intercept``
(per intervention handler), ``send`` (around the delivery), ``process`` (the handler) and
``ack`` (the response on its way back); a publish makes ``create``, ``intercept``,
``publish`` (around the fan-out) and one ``process`` per recipient.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Tracer

from ..base import (
    Agent,
    AgentId,
    CancellationToken,
    DeliveryStage,
    MessageContext,
    MessageDroppedEvent,
    MessageEvent,
    MessageKind,
    TopicId,
    try_get_known_serializers_for_type,
)
from ..base._constants import EVENT_LOGGER_NAME
from ..base._contexts import CallFrame
from ..base._serialization import JSON_DATA_CONTENT_TYPE
from ..base.exceptions import MessageDroppedException
from ._delivery import PendingPublish, is_drop
from ._telemetry import runtime_span

if TYPE_CHECKING:
    from ._single_threaded_agent_runtime import SingleThreadedAgentRuntime

event_logger = logging.getLogger(EVENT_LOGGER_NAME)


@contextmanager
def _span(
    tracer: Tracer | None, operation: str, target: AgentId | TopicId | str | None, message: Any = None
) -> Iterator[None]:
    if tracer is None:
        yield
    else:
        with runtime_span(tracer, operation, target, message):
            yield


def payload(runtime: SingleThreadedAgentRuntime, message: Any) -> str:
    """A message as the event log shows it: its JSON form if it has one, else its repr."""
    registry = runtime._serialization_registry
    try:
        name = registry.type_name(message)
        if registry.is_registered(name, JSON_DATA_CONTENT_TYPE):
            return registry.serialize(message, type_name=name, data_content_type=JSON_DATA_CONTENT_TYPE).decode(
                "utf-8", "replace"
            )
        serializers = try_get_known_serializers_for_type(type(message))
        if serializers and serializers[0].data_content_type == JSON_DATA_CONTENT_TYPE:
            return serializers[0].serialize(message).decode("utf-8", "replace")
    except Exception:
        pass
    text = repr(message)
    return text if len(text) <= 2000 else text[:2000] + "..."


async def traced(tracer: Tracer, agent: Agent, message: Any, ctx: MessageContext) -> Any:
    """A handler run inside its ``process`` span."""
    with runtime_span(tracer, "process", agent.id, message):
        return await agent.on_message(message, ctx)


def _log(
    runtime: SingleThreadedAgentRuntime,
    message: Any,
    sender: AgentId | None,
    receiver: AgentId | TopicId | None,
    kind: MessageKind,
    stage: DeliveryStage,
) -> None:
    event_logger.info(
        MessageEvent(
            payload=payload(runtime, message), sender=sender, receiver=receiver, kind=kind, delivery_stage=stage
        )
    )


def _warn_none(handler: object, method: str) -> None:
    warnings.warn(
        f"Intervention handler {type(handler).__name__}.{method} returned None; "
        "return the message (or DropMessage) instead",
        RuntimeWarning,
        stacklevel=3,
    )


class _Dropped(Exception):
    """An intervention handler dropped the message (raised by _intercept, never escapes)."""

    def __init__(self, handler: object) -> None:
        super().__init__(type(handler).__name__)
        self.handler_name = type(handler).__name__


async def _intercept(
    runtime: SingleThreadedAgentRuntime,
    message: Any,
    method: str,
    kwargs: dict[str, Any],
    sender: AgentId | None,
    receiver: AgentId | TopicId | None,
    kind: MessageKind,
) -> Any:
    """Pass ``message`` through every intervention handler's ``method`` in list order, each
    seeing the previous one's result. A drop is logged as an event and raises _Dropped."""
    tracer = runtime._tracer
    for handler in runtime._intervention_handlers:
        with _span(tracer, "intercept", type(handler).__name__):
            result = await getattr(handler, method)(message, **kwargs)
        if is_drop(result):
            if event_logger.isEnabledFor(logging.INFO):
                event_logger.info(
                    MessageDroppedEvent(payload=payload(runtime, message), sender=sender, receiver=receiver, kind=kind)
                )
            raise _Dropped(handler)
        if result is None and method != "on_response":  # None is a valid response, never a valid message
            _warn_none(handler, method)
        message = result
    return message


async def _intercept_request(
    runtime: SingleThreadedAgentRuntime,
    message: Any,
    method: str,
    kwargs: dict[str, Any],
    sender: AgentId | None,
    receiver: AgentId | None,
    kind: MessageKind,
    what: str,
) -> Any:
    """_intercept for a request or its response: a drop fails the caller."""
    try:
        return await _intercept(runtime, message, method, kwargs, sender, receiver, kind)
    except _Dropped as dropped:
        raise MessageDroppedException(f"{what} dropped by intervention handler {dropped.handler_name}") from None


async def send_observed(
    runtime: SingleThreadedAgentRuntime,
    message: Any,
    recipient: AgentId,
    ctx: MessageContext,
    parent: CallFrame | None,
    deadline: float | None,
    parent_token: CancellationToken | None,
) -> Any:
    """A request with interventions, spans and/or events. Interventions run as part of the
    request: its deadline and the caller's token cover them as they cover the handler."""
    events = event_logger.isEnabledFor(logging.INFO)
    tracer = runtime._tracer
    with _span(tracer, "create", recipient, message):
        if events:
            _log(runtime, message, ctx.sender, recipient, MessageKind.DIRECT, DeliveryStage.SEND)
        if runtime._intervention_handlers:
            intercepted = _intercept_request(
                runtime,
                message,
                "on_send",
                {"message_context": ctx, "recipient": recipient},
                ctx.sender,
                recipient,
                MessageKind.DIRECT,
                f"Request to {recipient}",
            )
            message = await runtime._bounded(intercepted, recipient, deadline, parent_token)
        if events:
            _log(runtime, message, ctx.sender, recipient, MessageKind.DIRECT, DeliveryStage.DELIVER)
        with _span(tracer, "send", recipient, message):
            response = await runtime._send(message, recipient, ctx, parent, deadline, parent_token)
        with _span(tracer, "ack", None):
            if events:
                _log(runtime, response, recipient, ctx.sender, MessageKind.RESPOND, DeliveryStage.SEND)
            if runtime._intervention_handlers:
                intercepted = _intercept_request(
                    runtime,
                    response,
                    "on_response",
                    {"sender": recipient, "recipient": ctx.sender},
                    recipient,
                    ctx.sender,
                    MessageKind.RESPOND,
                    f"Response from {recipient}",
                )
                response = await runtime._bounded(intercepted, recipient, deadline, parent_token)
            if events:
                _log(runtime, response, recipient, ctx.sender, MessageKind.RESPOND, DeliveryStage.DELIVER)
        return response


async def publish_observed(
    runtime: SingleThreadedAgentRuntime,
    message: Any,
    topic_id: TopicId,
    sender: AgentId | None,
    token: CancellationToken,
    message_id: str,
) -> None:
    events = event_logger.isEnabledFor(logging.INFO)
    tracer = runtime._tracer
    with _span(tracer, "create", topic_id, message):
        if events:
            _log(runtime, message, sender, topic_id, MessageKind.PUBLISH, DeliveryStage.SEND)
        if runtime._intervention_handlers:
            ctx = MessageContext(sender, topic_id, False, token, message_id)
            try:
                message = await _intercept(
                    runtime, message, "on_publish", {"message_context": ctx}, sender, topic_id, MessageKind.PUBLISH
                )
            except _Dropped:
                return  # a dropped publish is not an error for the publisher
        if not runtime._running:
            runtime._accept_pending(PendingPublish(message, topic_id, sender, token, message_id))
            return
    with _span(tracer, "publish", topic_id, message):
        recipients = runtime._subscription_manager.recipients(topic_id)
        if events:
            text = payload(runtime, message)  # one rendering for all the recipients' events
            for recipient in recipients:
                if recipient != sender:
                    event_logger.info(
                        MessageEvent(
                            payload=text,
                            sender=sender,
                            receiver=None,
                            kind=MessageKind.PUBLISH,
                            delivery_stage=DeliveryStage.DELIVER,
                        )
                    )
        runtime._fan_out(message, topic_id, recipients, sender, token, message_id)
