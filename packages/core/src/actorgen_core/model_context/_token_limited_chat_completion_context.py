from __future__ import annotations

from typing import Self

from pydantic import BaseModel

from ..base._component_config import Component, ComponentModel
from ..models._model_client import ChatCompletionClient
from ..models._types import LLMMessage
from ..tools._base import ToolSchema
from ._chat_completion_context import ChatCompletionContext, drop_leading_function_results

__all__ = ["TokenLimitedChatCompletionContext", "TokenLimitedChatCompletionContextConfig"]


class TokenLimitedChatCompletionContextConfig(BaseModel):
    model_client: ComponentModel
    token_limit: int | None = None
    tool_schema: list[ToolSchema] | None = None
    initial_messages: list[LLMMessage] | None = None


class TokenLimitedChatCompletionContext(ChatCompletionContext, Component[TokenLimitedChatCompletionContextConfig]):
    """A context that fits a token budget by leaving out messages from the middle.

    The budget is ``token_limit`` tokens as counted by ``model_client`` (with ``tool_schema``),
    or, without a limit, whatever the client reports as the model's remaining capacity.
    The first and the latest messages are the last to go.
    """

    component_provider_override = "actorgen_core.model_context.TokenLimitedChatCompletionContext"
    component_config_schema = TokenLimitedChatCompletionContextConfig

    def __init__(
        self,
        model_client: ChatCompletionClient,
        *,
        token_limit: int | None = None,
        tool_schema: list[ToolSchema] | None = None,
        initial_messages: list[LLMMessage] | None = None,
    ) -> None:
        super().__init__(initial_messages)
        if token_limit is not None and token_limit <= 0:
            raise ValueError(f"token_limit must be greater than 0, got {token_limit}")
        self._model_client = model_client
        self._token_limit = token_limit
        self._tool_schema = tool_schema or []

    def _fits(self, messages: list[LLMMessage]) -> bool:
        if self._token_limit is None:
            return self._model_client.remaining_tokens(messages, tools=self._tool_schema) >= 0
        return self._model_client.count_tokens(messages, tools=self._tool_schema) <= self._token_limit

    async def get_messages(self) -> list[LLMMessage]:
        messages = list(self._messages)
        while messages and not self._fits(messages):
            del messages[len(messages) // 2]
        return drop_leading_function_results(messages)

    def _to_config(self) -> TokenLimitedChatCompletionContextConfig:
        return TokenLimitedChatCompletionContextConfig(
            model_client=self._model_client.dump_component(),
            token_limit=self._token_limit,
            tool_schema=self._tool_schema,
            initial_messages=self._initial_messages,
        )

    @classmethod
    def _from_config(cls, config: TokenLimitedChatCompletionContextConfig) -> Self:
        return cls(
            model_client=ChatCompletionClient.load_component(config.model_client),
            token_limit=config.token_limit,
            tool_schema=config.tool_schema,
            initial_messages=config.initial_messages,
        )
