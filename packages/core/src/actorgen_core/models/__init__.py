"""Chat-completion models: the client interface, the message types and model descriptions."""

from ..components._models.messages import (
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
from ..components._models.model_client import (
    ChatCompletionClient,
    ModelCapabilities,
    ModelFamily,
    ModelInfo,
    validate_model_info,
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
