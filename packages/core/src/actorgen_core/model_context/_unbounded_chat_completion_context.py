from __future__ import annotations

from typing import Self

from pydantic import BaseModel

from ..base._component_config import Component
from ..models._types import LLMMessage
from ._chat_completion_context import ChatCompletionContext

__all__ = ["UnboundedChatCompletionContext", "UnboundedChatCompletionContextConfig"]


class UnboundedChatCompletionContextConfig(BaseModel):
    initial_messages: list[LLMMessage] | None = None


class UnboundedChatCompletionContext(ChatCompletionContext, Component[UnboundedChatCompletionContextConfig]):
    """A context that shows the model every message."""

    component_provider_override = "actorgen_core.model_context.UnboundedChatCompletionContext"
    component_config_schema = UnboundedChatCompletionContextConfig

    async def get_messages(self) -> list[LLMMessage]:
        return list(self._messages)

    def _to_config(self) -> UnboundedChatCompletionContextConfig:
        return UnboundedChatCompletionContextConfig(initial_messages=self._initial_messages)

    @classmethod
    def _from_config(cls, config: UnboundedChatCompletionContextConfig) -> Self:
        return cls(initial_messages=config.initial_messages)
