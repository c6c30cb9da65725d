"""Import path kept for code written against ``autogen_core.tools._workbench``."""

from ..components._tools.workbench import (
    ImageResultContent,
    StreamWorkbench,
    TextResultContent,
    ToolResult,
    Workbench,
)

__all__ = ["ImageResultContent", "StreamWorkbench", "TextResultContent", "ToolResult", "Workbench"]
