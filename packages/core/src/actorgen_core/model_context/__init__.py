"""Chat-completion contexts: which of an agent's stored messages a model gets to see."""

from ..base._public_module import set_public_module
from ._buffered_chat_completion_context import BufferedChatCompletionContext
from ._chat_completion_context import ChatCompletionContext, ChatCompletionContextState
from ._head_and_tail_chat_completion_context import HeadAndTailChatCompletionContext
from ._token_limited_chat_completion_context import TokenLimitedChatCompletionContext
from ._unbounded_chat_completion_context import UnboundedChatCompletionContext

__all__ = [
    "ChatCompletionContext",
    "ChatCompletionContextState",
    "UnboundedChatCompletionContext",
    "BufferedChatCompletionContext",
    "TokenLimitedChatCompletionContext",
    "HeadAndTailChatCompletionContext",
]

set_public_module(__name__, globals())
