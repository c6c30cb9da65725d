"""The chat-completion client interface and what a client tells about its model."""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal, Required, TypeAlias

from pydantic import BaseModel
from typing_extensions import TypedDict

from ..base import CancellationToken
from ..base._component_config import ComponentBase
from ..tools._base import Tool, ToolSchema
from ._types import CreateResult, LLMMessage, RequestUsage

__all__ = ["ModelFamily", "ModelCapabilities", "ModelInfo", "validate_model_info", "ChatCompletionClient"]


class ModelFamily:
    """Names of model families, so that clients and agents can adapt to a model's quirks.

    A namespace, not a type to instantiate; any other string is accepted as a family too.
    """

    GPT_5 = "gpt-5"
    GPT_41 = "gpt-41"
    GPT_45 = "gpt-45"
    GPT_4O = "gpt-4o"
    O1 = "o1"
    O3 = "o3"
    O4 = "o4"
    GPT_4 = "gpt-4"
    GPT_35 = "gpt-35"
    R1 = "r1"
    GEMINI_1_5_FLASH = "gemini-1.5-flash"
    GEMINI_1_5_PRO = "gemini-1.5-pro"
    GEMINI_2_0_FLASH = "gemini-2.0-flash"
    GEMINI_2_5_PRO = "gemini-2.5-pro"
    GEMINI_2_5_FLASH = "gemini-2.5-flash"
    CLAUDE_3_HAIKU = "claude-3-haiku"
    CLAUDE_3_SONNET = "claude-3-sonnet"
    CLAUDE_3_OPUS = "claude-3-opus"
    CLAUDE_3_5_HAIKU = "claude-3-5-haiku"
    CLAUDE_3_5_SONNET = "claude-3-5-sonnet"
    CLAUDE_3_7_SONNET = "claude-3-7-sonnet"
    CLAUDE_4_OPUS = "claude-4-opus"
    CLAUDE_4_SONNET = "claude-4-sonnet"
    LLAMA_3_3_8B = "llama-3.3-8b"
    LLAMA_3_3_70B = "llama-3.3-70b"
    LLAMA_4_SCOUT = "llama-4-scout"
    LLAMA_4_MAVERICK = "llama-4-maverick"
    CODESRAL = "codestral"
    OPEN_CODESRAL_MAMBA = "open-codestral-mamba"
    MISTRAL = "mistral"
    MINISTRAL = "ministral"
    PIXTRAL = "pixtral"
    UNKNOWN = "unknown"

    ANY: TypeAlias = Literal[
        "gpt-5",
        "gpt-41",
        "gpt-45",
        "gpt-4o",
        "o1",
        "o3",
        "o4",
        "gpt-4",
        "gpt-35",
        "r1",
        "gemini-1.5-flash",
        "gemini-1.5-pro",
        "gemini-2.0-flash",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "claude-3-haiku",
        "claude-3-sonnet",
        "claude-3-opus",
        "claude-3-5-haiku",
        "claude-3-5-sonnet",
        "claude-3-7-sonnet",
        "claude-4-opus",
        "claude-4-sonnet",
        "llama-3.3-8b",
        "llama-3.3-70b",
        "llama-4-scout",
        "llama-4-maverick",
        "codestral",
        "open-codestral-mamba",
        "mistral",
        "ministral",
        "pixtral",
        "unknown",
    ]

    def __new__(cls, *args: Any, **kwargs: Any) -> ModelFamily:
        raise TypeError("ModelFamily is a namespace of family names and cannot be instantiated")

    @staticmethod
    def is_claude(family: str) -> bool:
        return family in _CLAUDE

    @staticmethod
    def is_gemini(family: str) -> bool:
        return family in _GEMINI

    @staticmethod
    def is_openai(family: str) -> bool:
        return family in _OPENAI

    @staticmethod
    def is_llama(family: str) -> bool:
        return family in _LLAMA

    @staticmethod
    def is_mistral(family: str) -> bool:
        return family in _MISTRAL


_CLAUDE = frozenset(
    {
        ModelFamily.CLAUDE_3_HAIKU,
        ModelFamily.CLAUDE_3_SONNET,
        ModelFamily.CLAUDE_3_OPUS,
        ModelFamily.CLAUDE_3_5_HAIKU,
        ModelFamily.CLAUDE_3_5_SONNET,
        ModelFamily.CLAUDE_3_7_SONNET,
        ModelFamily.CLAUDE_4_OPUS,
        ModelFamily.CLAUDE_4_SONNET,
    }
)
_GEMINI = frozenset(
    {
        ModelFamily.GEMINI_1_5_FLASH,
        ModelFamily.GEMINI_1_5_PRO,
        ModelFamily.GEMINI_2_0_FLASH,
        ModelFamily.GEMINI_2_5_PRO,
        ModelFamily.GEMINI_2_5_FLASH,
    }
)
# R1 is served by OpenAI-compatible APIs but is not an OpenAI model.
_OPENAI = frozenset(
    {
        ModelFamily.GPT_5,
        ModelFamily.GPT_45,
        ModelFamily.GPT_41,
        ModelFamily.GPT_4O,
        ModelFamily.O1,
        ModelFamily.O3,
        ModelFamily.O4,
        ModelFamily.GPT_4,
        ModelFamily.GPT_35,
    }
)
_LLAMA = frozenset(
    {ModelFamily.LLAMA_3_3_8B, ModelFamily.LLAMA_3_3_70B, ModelFamily.LLAMA_4_SCOUT, ModelFamily.LLAMA_4_MAVERICK}
)
_MISTRAL = frozenset(
    {
        ModelFamily.CODESRAL,
        ModelFamily.OPEN_CODESRAL_MAMBA,
        ModelFamily.MISTRAL,
        ModelFamily.MINISTRAL,
        ModelFamily.PIXTRAL,
    }
)


class ModelCapabilities(TypedDict, total=False):
    """Deprecated: use :class:`ModelInfo`."""

    vision: Required[bool]
    function_calling: Required[bool]
    json_output: Required[bool]


class ModelInfo(TypedDict, total=False):
    """What a model can do; agents check it before sending images, tools or JSON requests."""

    vision: Required[bool]
    """Accepts images."""
    function_calling: Required[bool]
    """Supports tool / function calls."""
    json_output: Required[bool]
    """Supports JSON mode (not to be confused with structured output)."""
    family: Required[ModelFamily.ANY | str]
    structured_output: Required[bool]
    """Supports output constrained to a JSON schema."""
    multiple_system_messages: bool | None
    """Accepts more than one system message, anywhere in the conversation."""


_REQUIRED_MODEL_INFO_KEYS = ("vision", "function_calling", "json_output", "family")


def validate_model_info(model_info: ModelInfo) -> None:
    """Raise ValueError if a required key is missing; warn if ``structured_output`` is missing."""
    missing = [key for key in _REQUIRED_MODEL_INFO_KEYS if key not in model_info]
    if missing:
        raise ValueError(
            f"model_info is missing the required keys: {', '.join(missing)} "
            f"(required: {', '.join(_REQUIRED_MODEL_INFO_KEYS)}, structured_output)"
        )
    if "structured_output" not in model_info:
        warnings.warn(
            "model_info has no 'structured_output' key; it will be required in a future version",
            UserWarning,
            stacklevel=2,
        )


class ChatCompletionClient(ComponentBase[BaseModel], ABC):
    """A client for a chat-completion model.

    Implementations track token usage (:meth:`actual_usage`, :meth:`total_usage`), can count
    tokens before a call, and describe the model with :attr:`model_info`.
    """

    @abstractmethod
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
        """Ask the model for one completion.

        ``json_output`` asks for JSON (True) or for output matching a pydantic model;
        ``tool_choice`` is ``"auto"``, ``"required"``, ``"none"`` or one tool the model must call.
        """

    @abstractmethod
    def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Like :meth:`create`, yielding text chunks and then the :class:`CreateResult` as the last item."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def actual_usage(self) -> RequestUsage: ...

    @abstractmethod
    def total_usage(self) -> RequestUsage: ...

    @abstractmethod
    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int: ...

    @abstractmethod
    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int: ...

    @property
    @abstractmethod
    def capabilities(self) -> ModelCapabilities:
        """Deprecated: use :attr:`model_info`."""

    @property
    @abstractmethod
    def model_info(self) -> ModelInfo:
        warnings.warn(
            f"{type(self).__name__} does not implement model_info; deriving it from the deprecated capabilities",
            DeprecationWarning,
            stacklevel=2,
        )
        capabilities = self.capabilities
        return ModelInfo(
            vision=capabilities["vision"],
            function_calling=capabilities["function_calling"],
            json_output=capabilities["json_output"],
            family=ModelFamily.UNKNOWN,
            structured_output=False,
        )
