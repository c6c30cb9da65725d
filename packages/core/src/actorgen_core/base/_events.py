"""Structured events emitted on the ``actorgen_core.events`` logger (public path: ``actorgen_core.logging``).

They live in the base layer because runtimes (application layer) and tools (AI components)
both emit them, and neither may import the top-level package.

Each event is passed as the ``msg`` of a logging call; ``str(event)`` renders it as JSON.
Runtimes build them only when that logger is enabled for INFO, so they cost nothing
when nobody listens.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from ._agent_id import AgentId
from ._contexts import MessageHandlerContext
from ._topic import TopicId

__all__ = [
    "LLMCallEvent",
    "LLMStreamStartEvent",
    "LLMStreamEndEvent",
    "ToolCallEvent",
    "MessageKind",
    "DeliveryStage",
    "MessageEvent",
    "MessageDroppedEvent",
    "MessageHandlerExceptionEvent",
    "AgentConstructionExceptionEvent",
]


def _current_agent() -> str | None:
    # Through the public accessor rather than the call frame's layout, which is the runtime's
    # business; an event is only built when someone listens, so the try costs nothing hot.
    try:
        return str(MessageHandlerContext.agent_id())
    except RuntimeError:
        return None


class _Event:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def __str__(self) -> str:
        return json.dumps(self.kwargs, default=str)


class _UsageEvent(_Event):
    """An event that reports a model call's token usage."""

    @property
    def prompt_tokens(self) -> int:
        return int(self.kwargs["prompt_tokens"])

    @property
    def completion_tokens(self) -> int:
        return int(self.kwargs["completion_tokens"])


class LLMCallEvent(_UsageEvent):
    def __init__(
        self,
        *,
        messages: list[dict[str, Any]],
        response: dict[str, Any],
        prompt_tokens: int,
        completion_tokens: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kwargs.update(
            type="LLMCall",
            messages=messages,
            response=response,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            agent_id=_current_agent(),
        )


class LLMStreamStartEvent(_Event):
    def __init__(self, *, messages: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kwargs.update(type="LLMStreamStart", messages=messages, agent_id=_current_agent())


class LLMStreamEndEvent(_UsageEvent):
    def __init__(self, *, response: dict[str, Any], prompt_tokens: int, completion_tokens: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kwargs.update(
            type="LLMStreamEnd",
            response=response,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            agent_id=_current_agent(),
        )


class ToolCallEvent(_Event):
    def __init__(self, *, tool_name: str, arguments: dict[str, Any], result: str) -> None:
        super().__init__()
        self.kwargs.update(
            type="ToolCall",
            tool_name=tool_name,
            arguments=arguments,
            result=result,
            agent_id=_current_agent(),
        )


class MessageKind(Enum):
    DIRECT = 1
    PUBLISH = 2
    RESPOND = 3


class DeliveryStage(Enum):
    SEND = 1
    DELIVER = 2


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


class MessageEvent(_Event):
    def __init__(
        self,
        *,
        payload: str,
        sender: AgentId | None,
        receiver: AgentId | TopicId | None,
        kind: MessageKind,
        delivery_stage: DeliveryStage,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kwargs.update(
            payload=payload,
            sender=_str_or_none(sender),
            receiver=_str_or_none(receiver),
            kind=str(kind),
            delivery_stage=str(delivery_stage),
            type="Message",
        )


class MessageDroppedEvent(_Event):
    def __init__(
        self,
        *,
        payload: str,
        sender: AgentId | None,
        receiver: AgentId | TopicId | None,
        kind: MessageKind,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kwargs.update(
            payload=payload,
            sender=_str_or_none(sender),
            receiver=_str_or_none(receiver),
            kind=str(kind),
            type="MessageDropped",
        )


class MessageHandlerExceptionEvent(_Event):
    def __init__(self, *, payload: str, handling_agent: AgentId, exception: BaseException, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kwargs.update(
            payload=payload,
            handling_agent=str(handling_agent),
            exception=str(exception),
            type="MessageHandlerException",
        )


class AgentConstructionExceptionEvent(_Event):
    def __init__(self, *, agent_id: AgentId, exception: BaseException, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kwargs.update(agent_id=str(agent_id), exception=str(exception), type="AgentConstructionException")
