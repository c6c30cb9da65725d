"""Tools that models can call: the tool protocol, FunctionTool, and workbenches of tools."""

from ..components._tools.base import (
    BaseStreamTool,
    BaseTool,
    BaseToolWithState,
    ParametersSchema,
    StreamTool,
    Tool,
    ToolSchema,
)
from ..components._tools.function_tool import FunctionTool, allow_function_tool_source
from ..components._tools.static_workbench import StaticStreamWorkbench, StaticWorkbench, ToolOverride
from ..components._tools.workbench import ImageResultContent, TextResultContent, ToolResult, Workbench

__all__ = [
    "Tool",
    "StreamTool",
    "ToolSchema",
    "ParametersSchema",
    "BaseTool",
    "BaseToolWithState",
    "BaseStreamTool",
    "FunctionTool",
    "Workbench",
    "ToolResult",
    "TextResultContent",
    "ImageResultContent",
    "StaticWorkbench",
    "StaticStreamWorkbench",
    "ToolOverride",
    "allow_function_tool_source",
]
