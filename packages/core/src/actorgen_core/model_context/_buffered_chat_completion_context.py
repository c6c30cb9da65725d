from __future__ import annotations

from typing import Self

from pydantic import BaseModel

from ..base._component_config import Component
from ..models._types import LLMMessage
from ._chat_completion_context import ChatCompletionContext, drop_leading_function_results

__all__ = ["BufferedChatCompletionContext", "BufferedChatCompletionContextConfig"]


class BufferedChatCompletionContextConfig(BaseModel):
    buffer_size: int
    initial_messages: list[LLMMessage] | None = None


class BufferedChatCompletionContext(ChatCompletionContext, Component[BufferedChatCompletionContextConfig]):
    """A context that shows the model the last ``buffer_size`` messages.

    A function-result message at the start of that window is left out, since the
    assistant message it answers fell outside the window.
    """

    component_provider_override = "actorgen_core.model_context.BufferedChatCompletionContext"
    component_config_schema = BufferedChatCompletionContextConfig

    def __init__(self, buffer_size: int, initial_messages: list[LLMMessage] | None = None) -> None:
        super().__init__(initial_messages)
        if buffer_size <= 0:
            raise ValueError(f"buffer_size must be greater than 0, got {buffer_size}")
        self._buffer_size = buffer_size

    async def get_messages(self) -> list[LLMMessage]:
        return drop_leading_function_results(self._messages[-self._buffer_size :])

    def _to_config(self) -> BufferedChatCompletionContextConfig:
        return BufferedChatCompletionContextConfig(
            buffer_size=self._buffer_size, initial_messages=self._initial_messages
        )

    @classmethod
    def _from_config(cls, config: BufferedChatCompletionContextConfig) -> Self:
        return cls(buffer_size=config.buffer_size, initial_messages=config.initial_messages)
