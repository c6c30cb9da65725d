from __future__ import annotations

from typing import Self

from pydantic import BaseModel

from ..base._component_config import Component
from ..base._function_call import FunctionCall
from ..models._types import AssistantMessage, LLMMessage, UserMessage
from ._chat_completion_context import ChatCompletionContext, drop_leading_function_results

__all__ = ["HeadAndTailChatCompletionContext", "HeadAndTailChatCompletionContextConfig", "skipped_messages_note"]


class HeadAndTailChatCompletionContextConfig(BaseModel):
    head_size: int
    tail_size: int
    initial_messages: list[LLMMessage] | None = None


def skipped_messages_note(count: int) -> UserMessage:
    """The message that stands in for the ``count`` messages between head and tail."""
    return UserMessage(content=f"[{count} earlier messages omitted here]", source="System")


def _is_function_call_request(message: LLMMessage) -> bool:
    return (
        isinstance(message, AssistantMessage)
        and isinstance(message.content, list)
        and all(isinstance(call, FunctionCall) for call in message.content)
    )


class HeadAndTailChatCompletionContext(ChatCompletionContext, Component[HeadAndTailChatCompletionContextConfig]):
    """A context that shows the first ``head_size`` and last ``tail_size`` messages, with a note
    saying how many were left out in between.

    Function calls are not split from their results: a head ending in a function-call request
    loses that request, and a tail starting with function results loses those results.
    """

    component_provider_override = "actorgen_core.model_context.HeadAndTailChatCompletionContext"
    component_config_schema = HeadAndTailChatCompletionContextConfig

    def __init__(self, head_size: int, tail_size: int, initial_messages: list[LLMMessage] | None = None) -> None:
        super().__init__(initial_messages)
        if head_size <= 0:
            raise ValueError(f"head_size must be greater than 0, got {head_size}")
        if tail_size <= 0:
            raise ValueError(f"tail_size must be greater than 0, got {tail_size}")
        self._head_size = head_size
        self._tail_size = tail_size

    async def get_messages(self) -> list[LLMMessage]:
        skipped = len(self._messages) - self._head_size - self._tail_size
        if skipped <= 0:
            return list(self._messages)
        head = self._messages[: self._head_size]
        if head and _is_function_call_request(head[-1]):
            head = head[:-1]
        tail = drop_leading_function_results(self._messages[-self._tail_size :])
        return [*head, skipped_messages_note(skipped), *tail]

    def _to_config(self) -> HeadAndTailChatCompletionContextConfig:
        return HeadAndTailChatCompletionContextConfig(
            head_size=self._head_size, tail_size=self._tail_size, initial_messages=self._initial_messages
        )

    @classmethod
    def _from_config(cls, config: HeadAndTailChatCompletionContextConfig) -> Self:
        return cls(head_size=config.head_size, tail_size=config.tail_size, initial_messages=config.initial_messages)
