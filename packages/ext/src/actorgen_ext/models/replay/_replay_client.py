"""A chat-completion client that plays back a script: tests and samples run offline with it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal, Self

from pydantic import BaseModel

from actorgen_core import CancellationToken, Component
from actorgen_core.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelCapabilities,
    ModelFamily,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    UserMessage,
    validate_model_info,
)
from actorgen_core.tools import Tool, ToolSchema

__all__ = ["ReplayChatCompletionClient", "ReplayChatCompletionClientConfig"]

_CHUNK = re.compile(r"\s*\S+\s*|\s+")

DEFAULT_TOKEN_LIMIT = 10_000


class ReplayChatCompletionClientConfig(BaseModel):
    chat_completions: Sequence[str | CreateResult]
    model_info: ModelInfo | None = None


def _words(text: str) -> int:
    return len(text.split())


def _message_tokens(message: LLMMessage) -> int:
    if isinstance(message, SystemMessage):
        return _words(message.content)
    if isinstance(message, UserMessage):
        if isinstance(message.content, str):
            return _words(message.content)
        return sum(_words(item) for item in message.content if isinstance(item, str))
    if isinstance(message, AssistantMessage):
        if isinstance(message.content, str):
            return _words(message.content)
        return sum(_words(call.name) + _words(call.arguments) for call in message.content)
    if isinstance(message, FunctionExecutionResultMessage):
        return sum(_words(result.content) for result in message.content)
    return 0


class ReplayChatCompletionClient(ChatCompletionClient, Component[ReplayChatCompletionClientConfig]):
    """Answers each call with the next scripted response, in order; records every request.

    Args:
        chat_completions: the script. A ``str`` becomes a ``CreateResult`` with
            ``finish_reason="stop"``; a ``CreateResult`` (text or a list of ``FunctionCall``) is
            returned as it is.
        model_info: what the client claims the model can do. Default: everything (vision,
            function calling, JSON and structured output), family ``unknown`` — a script can
            play any model.

    Usage is deterministic: prompt tokens are the whitespace-separated words of the messages'
    text, completion tokens those of a string response (or the ``completion_tokens`` of a
    scripted ``CreateResult``). :meth:`actual_usage` is the usage of the last call,
    :meth:`total_usage` the sum over all calls. ``create_stream`` yields the text in word-sized
    chunks (their concatenation is the exact text), then the ``CreateResult``. When the script
    is exhausted, calls raise ``ValueError``; :meth:`reset` starts it over.

    Every call is appended to :attr:`create_calls` as a dict with the keys ``messages``, ``tools``,
    ``tool_choice``, ``json_output`` and ``extra_create_args``, for assertions.
    """

    component_type = "replay_chat_completion_client"
    component_config_schema = ReplayChatCompletionClientConfig
    component_provider_override = "actorgen_ext.models.replay.ReplayChatCompletionClient"

    def __init__(self, chat_completions: Sequence[str | CreateResult], model_info: ModelInfo | None = None) -> None:
        for item in chat_completions:
            if not isinstance(item, str | CreateResult):
                raise TypeError(f"Scripted responses must be str or CreateResult, got {type(item).__name__}")
        self.chat_completions = list(chat_completions)
        self.provided_message_count = len(self.chat_completions)
        if model_info is None:
            model_info = ModelInfo(
                vision=True,
                function_calling=True,
                json_output=True,
                family=ModelFamily.UNKNOWN,
                structured_output=True,
            )
        validate_model_info(model_info)
        self._model_info = model_info
        self._current_index = 0
        self._cached_bool_value = True
        self._create_calls: list[dict[str, Any]] = []
        self._total_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._cur_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(responses={self.provided_message_count}, next={self._current_index})"

    @property
    def create_calls(self) -> list[dict[str, Any]]:
        """Every request made so far, oldest first."""
        return self._create_calls

    def set_cached_bool_value(self, value: bool) -> None:
        """The ``cached`` flag of results made from plain strings (default True)."""
        self._cached_bool_value = value

    def reset(self) -> None:
        """Start the script over; forget recorded calls and usage."""
        self._current_index = 0
        self._create_calls = []
        self._total_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._cur_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)

    def _next(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
        cancellation_token: CancellationToken | None,
    ) -> CreateResult:
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError("the cancellation token was cancelled")
        self._create_calls.append(
            {
                "messages": list(messages),
                "tools": list(tools),
                "tool_choice": tool_choice,
                "json_output": json_output,
                "extra_create_args": dict(extra_create_args),
            }
        )
        if self._current_index >= len(self.chat_completions):
            raise ValueError(
                f"No more mock responses available: all {len(self.chat_completions)} scripted responses "
                "were used (call reset() to start over)"
            )
        response = self.chat_completions[self._current_index]
        self._current_index += 1
        prompt_tokens = self.count_tokens(messages)
        if isinstance(response, str):
            usage = RequestUsage(prompt_tokens=prompt_tokens, completion_tokens=_words(response))
            result = CreateResult(finish_reason="stop", content=response, usage=usage, cached=self._cached_bool_value)
        else:
            result = response.model_copy(deep=True)
            usage = RequestUsage(prompt_tokens=prompt_tokens, completion_tokens=response.usage.completion_tokens)
        self._cur_usage = usage
        self._total_usage = RequestUsage(
            self._total_usage.prompt_tokens + usage.prompt_tokens,
            self._total_usage.completion_tokens + usage.completion_tokens,
        )
        return result

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        return self._next(messages, tools, tool_choice, json_output, extra_create_args, cancellation_token)

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        result = self._next(messages, tools, tool_choice, json_output, extra_create_args, cancellation_token)
        if isinstance(result.content, str):
            for piece in _CHUNK.findall(result.content):
                if cancellation_token is not None and cancellation_token.is_cancelled():
                    raise asyncio.CancelledError("the cancellation token was cancelled")
                yield piece
                await asyncio.sleep(0)  # let a consumer (or a canceller) run between chunks, as with a server
        yield result

    async def close(self) -> None:
        pass

    def actual_usage(self) -> RequestUsage:
        """Usage of the most recent call."""
        return self._cur_usage

    def total_usage(self) -> RequestUsage:
        return self._total_usage

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """Whitespace-separated words of the messages' text (tools are not counted)."""
        return sum(_message_tokens(message) for message in messages)

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """What is left of a 10,000-token budget after all calls so far (``messages`` is not counted)."""
        used = self._total_usage.prompt_tokens + self._total_usage.completion_tokens
        return max(0, DEFAULT_TOKEN_LIMIT - used)

    @property
    def capabilities(self) -> ModelCapabilities:
        return ModelCapabilities(
            vision=self._model_info["vision"],
            function_calling=self._model_info["function_calling"],
            json_output=self._model_info["json_output"],
        )

    @property
    def model_info(self) -> ModelInfo:
        return self._model_info

    def _to_config(self) -> ReplayChatCompletionClientConfig:
        return ReplayChatCompletionClientConfig(chat_completions=self.chat_completions, model_info=self._model_info)

    @classmethod
    def _from_config(cls, config: ReplayChatCompletionClientConfig) -> Self:
        return cls(chat_completions=list(config.chat_completions), model_info=config.model_info)
