"""Chat-completion models: the client interface, the message types and model descriptions."""

from ..base._public_module import set_public_module
from ._model_client import ChatCompletionClient, ModelCapabilities, ModelFamily, ModelInfo, validate_model_info
from ._types import (
    AssistantMessage,
    ChatCompletionTokenLogprob,
    CreateResult,
    FinishReasons,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    RequestUsage,
    SystemMessage,
    TopLogprob,
    UserMessage,
)

__all__ = [
    "ModelCapabilities",
    "ChatCompletionClient",
    "SystemMessage",
    "UserMessage",
    "AssistantMessage",
    "FunctionExecutionResult",
    "FunctionExecutionResultMessage",
    "LLMMessage",
    "RequestUsage",
    "FinishReasons",
    "CreateResult",
    "TopLogprob",
    "ChatCompletionTokenLogprob",
    "ModelFamily",
    "ModelInfo",
    "validate_model_info",
]

set_public_module(__name__, globals())
