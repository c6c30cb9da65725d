"""Chat-completion contexts: which of an agent's stored messages a model gets to see."""

from ..components._model_context.buffered import BufferedChatCompletionContext
from ..components._model_context.context import ChatCompletionContext, ChatCompletionContextState
from ..components._model_context.head_and_tail import HeadAndTailChatCompletionContext
from ..components._model_context.token_limited import TokenLimitedChatCompletionContext
from ..components._model_context.unbounded import UnboundedChatCompletionContext

__all__ = [
    "ChatCompletionContext",
    "ChatCompletionContextState",
    "UnboundedChatCompletionContext",
    "BufferedChatCompletionContext",
    "TokenLimitedChatCompletionContext",
    "HeadAndTailChatCompletionContext",
]
