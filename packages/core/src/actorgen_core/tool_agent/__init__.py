"""ToolAgent, an agent that executes function calls, and the loop that drives it from a model."""

from ..components._tool_agent.caller_loop import tool_agent_caller_loop
from ..components._tool_agent.tool_agent import (
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
