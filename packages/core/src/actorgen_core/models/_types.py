"""The messages exchanged with a chat-completion model, and what a completion returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ..base._function_call import FunctionCall
from ..base._image import Image

__all__ = [
    "SystemMessage",
    "UserMessage",
    "AssistantMessage",
    "FunctionExecutionResult",
    "FunctionExecutionResultMessage",
    "LLMMessage",
    "RequestUsage",
    "FinishReasons",
    "TopLogprob",
    "ChatCompletionTokenLogprob",
    "CreateResult",
]


class SystemMessage(BaseModel):
    """Instructions for the model from the developer."""

    content: str
    type: Literal["SystemMessage"] = "SystemMessage"


class UserMessage(BaseModel):
    """Input from a user or another agent: text, or a mix of text and images."""

    content: str | list[str | Image]
    source: str
    """Name of the agent (or user) that sent the message."""
    type: Literal["UserMessage"] = "UserMessage"


class AssistantMessage(BaseModel):
    """A previous output of the model: text, or the function calls it asked for."""

    content: str | list[FunctionCall]
    thought: str | None = None
    """Reasoning text the model produced alongside the content, if any."""
    source: str
    type: Literal["AssistantMessage"] = "AssistantMessage"


class FunctionExecutionResult(BaseModel):
    """The outcome of one function call, linked to it by ``call_id``."""

    content: str
    name: str
    call_id: str
    is_error: bool | None = None


class FunctionExecutionResultMessage(BaseModel):
    """The results of the function calls of the preceding assistant message."""

    content: list[FunctionExecutionResult]
    type: Literal["FunctionExecutionResultMessage"] = "FunctionExecutionResultMessage"


LLMMessage = Annotated[
    SystemMessage | UserMessage | AssistantMessage | FunctionExecutionResultMessage, Field(discriminator="type")
]
"""Any message of a model conversation; validated by its ``type`` field."""


@dataclass
class RequestUsage:
    prompt_tokens: int
    completion_tokens: int


FinishReasons = Literal["stop", "length", "function_calls", "content_filter", "unknown"]


@dataclass
class TopLogprob:
    logprob: float
    bytes: list[int] | None = None


class ChatCompletionTokenLogprob(BaseModel):
    token: str
    logprob: float
    top_logprobs: list[TopLogprob] | None = None
    bytes: list[int] | None = None


class CreateResult(BaseModel):
    """The result of one model call."""

    finish_reason: FinishReasons
    content: str | list[FunctionCall]
    """Text, or the function calls the model asks for."""
    usage: RequestUsage
    cached: bool
    """Whether the result came from a cache rather than the model."""
    logprobs: list[ChatCompletionTokenLogprob] | None = None
    thought: str | None = None
