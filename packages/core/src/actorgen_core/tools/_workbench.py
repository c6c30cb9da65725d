"""Workbench: a set of tools offered together, called by name, returning uniform results."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping
from types import TracebackType
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field

from ..base import CancellationToken
from ..base._component_config import ComponentBase
from ..base._image import Image
from ._base import ToolSchema

__all__ = [
    "TextResultContent",
    "ImageResultContent",
    "ToolResult",
    "Workbench",
    "StreamWorkbench",
]


class TextResultContent(BaseModel):
    type: Literal["TextResultContent"] = "TextResultContent"
    content: str


class ImageResultContent(BaseModel):
    type: Literal["ImageResultContent"] = "ImageResultContent"
    content: Image


class ToolResult(BaseModel):
    """The outcome of a tool call through a workbench; errors are results too (``is_error``)."""

    type: Literal["ToolResult"] = "ToolResult"
    name: str
    """The tool name the call used."""
    result: list[Annotated[TextResultContent | ImageResultContent, Field(discriminator="type")]]
    is_error: bool = False

    def to_text(self, replace_image: str | None = None) -> str:
        """The result as text, one part per line; images as ``[Image: <base64>]`` or ``replace_image``."""
        parts: list[str] = []
        for content in self.result:
            if isinstance(content, TextResultContent):
                parts.append(content.content)
            elif replace_image is not None:
                parts.append(replace_image)
            else:
                parts.append(f"[Image: {content.content.to_base64()}]")
        return "\n".join(parts)


class Workbench(ABC, ComponentBase[BaseModel]):
    """Tools that share a lifecycle and state (e.g. the tools of one MCP server).

    Use as an async context manager, or call :meth:`start` and :meth:`stop`.
    """

    component_type = "workbench"

    @abstractmethod
    async def list_tools(self) -> list[ToolSchema]:
        """The schemas of the tools available now (the list may change over time)."""

    @abstractmethod
    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> ToolResult:
        """Call a tool; failures come back as a result with ``is_error=True``."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def reset(self) -> None: ...

    @abstractmethod
    async def save_state(self) -> Mapping[str, Any]: ...

    @abstractmethod
    async def load_state(self, state: Mapping[str, Any]) -> None: ...

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.stop()


class StreamWorkbench(Workbench, ABC):
    """A workbench whose tools may stream intermediate items before the result."""

    @abstractmethod
    def call_tool_stream(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> AsyncGenerator[Any | ToolResult, None]:
        """Yield intermediate items, then a :class:`ToolResult` as the last item."""
