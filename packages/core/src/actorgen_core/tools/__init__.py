"""Tools that models can call: the tool protocol, FunctionTool, and workbenches of tools."""

from ..base._public_module import set_public_module
from ._base import BaseStreamTool, BaseTool, BaseToolWithState, ParametersSchema, StreamTool, Tool, ToolSchema
from ._function_tool import FunctionTool, allow_function_tool_source
from ._static_workbench import StaticStreamWorkbench, StaticWorkbench, ToolOverride
from ._workbench import ImageResultContent, TextResultContent, ToolResult, Workbench

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

set_public_module(__name__, globals())
