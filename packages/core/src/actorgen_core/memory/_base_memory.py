"""The memory interface: stores an agent can query and use to enrich a model context."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer

from ..base import CancellationToken
from ..base._component_config import ComponentBase
from ..base._image import Image
from ..model_context._chat_completion_context import ChatCompletionContext

__all__ = ["MemoryMimeType", "MemoryContent", "MemoryQueryResult", "UpdateContextResult", "Memory"]


class MemoryMimeType(Enum):
    TEXT = "text/plain"
    JSON = "application/json"
    MARKDOWN = "text/markdown"
    IMAGE = "image/*"
    BINARY = "application/octet-stream"


class MemoryContent(BaseModel):
    """One memory item: its content, what kind of content it is, and free-form metadata."""

    content: str | bytes | dict[str, Any] | Image
    mime_type: MemoryMimeType | str
    metadata: dict[str, Any] | None = None

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @field_serializer("mime_type")
    def _serialize_mime_type(self, mime_type: MemoryMimeType | str) -> str:
        return mime_type.value if isinstance(mime_type, MemoryMimeType) else mime_type


class MemoryQueryResult(BaseModel):
    results: list[MemoryContent]


class UpdateContextResult(BaseModel):
    memories: MemoryQueryResult


class Memory(ABC, ComponentBase[BaseModel]):
    """A store of memory items that can add the relevant ones to a model context."""

    component_type = "memory"

    @abstractmethod
    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        """Add relevant memories to ``model_context`` and report which ones."""

    @abstractmethod
    async def query(
        self, query: str | MemoryContent, cancellation_token: CancellationToken | None = None, **kwargs: Any
    ) -> MemoryQueryResult:
        """The memories relevant to ``query``."""

    @abstractmethod
    async def add(self, content: MemoryContent, cancellation_token: CancellationToken | None = None) -> None: ...

    @abstractmethod
    async def clear(self) -> None: ...

    @abstractmethod
    async def close(self) -> None:
        """Release resources the memory holds."""
