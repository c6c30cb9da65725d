"""The chat-completion context interface: the messages an agent keeps and the view a model gets."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from ..base._component_config import ComponentBase
from ..models._types import FunctionExecutionResultMessage, LLMMessage

__all__ = ["ChatCompletionContext", "ChatCompletionContextState", "drop_leading_function_results"]


class ChatCompletionContextState(BaseModel):
    messages: list[LLMMessage] = Field(default_factory=list)


class ChatCompletionContext(ABC, ComponentBase[BaseModel]):
    """Stores every message added; :meth:`get_messages` decides which of them a model sees.

    Subclasses implement the policy (everything, the last N, head and tail, a token budget).
    State holds all stored messages, not just the current view.
    """

    component_type = "chat_completion_context"

    def __init__(self, initial_messages: list[LLMMessage] | None = None) -> None:
        self._messages: list[LLMMessage] = list(initial_messages) if initial_messages else []
        self._initial_messages = initial_messages

    async def add_message(self, message: LLMMessage) -> None:
        self._messages.append(message)

    @abstractmethod
    async def get_messages(self) -> list[LLMMessage]:
        """The messages to send to the model."""

    async def clear(self) -> None:
        self._messages = []

    async def save_state(self) -> Mapping[str, Any]:
        return ChatCompletionContextState(messages=self._messages).model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self._messages = ChatCompletionContextState.model_validate(state).messages


def drop_leading_function_results(messages: list[LLMMessage]) -> list[LLMMessage]:
    """Without its assistant message, a function-result message is invalid input for most models."""
    if messages and isinstance(messages[0], FunctionExecutionResultMessage):
        return messages[1:]
    return messages
