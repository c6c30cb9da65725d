"""Import path kept for code written against ``autogen_core.tools._base``."""

from ..components._tools.base import (
    BaseStreamTool,
    BaseTool,
    BaseToolWithState,
    ParametersSchema,
    StreamTool,
    Tool,
    ToolSchema,
)

__all__ = ["BaseStreamTool", "BaseTool", "BaseToolWithState", "ParametersSchema", "StreamTool", "Tool", "ToolSchema"]
