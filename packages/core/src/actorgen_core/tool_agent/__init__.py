"""ToolAgent, an agent that executes function calls, and the loop that drives it from a model."""

from ..base._public_module import set_public_module
from ._caller_loop import tool_agent_caller_loop
from ._tool_agent import (
    InvalidToolArgumentsException,
    ToolAgent,
    ToolException,
    ToolExecutionException,
    ToolNotFoundException,
)

__all__ = [
    "ToolAgent",
    "ToolException",
    "ToolNotFoundException",
    "InvalidToolArgumentsException",
    "ToolExecutionException",
    "tool_agent_caller_loop",
]

set_public_module(__name__, globals())
