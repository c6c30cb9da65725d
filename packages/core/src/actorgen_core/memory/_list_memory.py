"""ListMemory: memories kept in a list, all of them relevant to everything."""

from __future__ import annotations

import json
from typing import Any, Self

from pydantic import BaseModel, Field

from ..base import CancellationToken
from ..base._component_config import Component
from ..base._image import Image
from ..model_context._chat_completion_context import ChatCompletionContext
from ..models._types import SystemMessage
from ._base_memory import Memory, MemoryContent, MemoryQueryResult, UpdateContextResult

__all__ = ["ListMemory", "ListMemoryConfig"]

_DEFAULT_NAME = "default_list_memory"


class ListMemoryConfig(BaseModel):
    name: str | None = None
    memory_contents: list[MemoryContent] = Field(default_factory=list)


def _render(content: str | bytes | dict[str, Any] | Image) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, bytes):
        return content.decode("utf-8", errors="replace")
    if isinstance(content, dict):
        return json.dumps(content, default=str)
    return f"[image, {content.mime_type}]"


def memory_system_message(contents: list[MemoryContent]) -> SystemMessage:
    """One system message listing the memories, numbered in the order they were added."""
    lines = [f"{number}. {_render(item.content)}" for number, item in enumerate(contents, start=1)]
    return SystemMessage(content="\nThings to remember, oldest first:\n" + "\n".join(lines) + "\n")


class ListMemory(Memory, Component[ListMemoryConfig]):
    """Memory kept as a list in insertion order.

    There is no retrieval: a query returns every item, and :meth:`update_context` adds all of
    them to the model context as one system message.
    """

    component_provider_override = "actorgen_core.memory.ListMemory"
    component_config_schema = ListMemoryConfig

    def __init__(self, name: str | None = None, memory_contents: list[MemoryContent] | None = None) -> None:
        self._name = name or _DEFAULT_NAME
        self._contents: list[MemoryContent] = list(memory_contents) if memory_contents else []

    @property
    def name(self) -> str:
        return self._name

    @property
    def content(self) -> list[MemoryContent]:
        return self._contents

    @content.setter
    def content(self, value: list[MemoryContent]) -> None:
        self._contents = value

    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        if self._contents:
            await model_context.add_message(memory_system_message(self._contents))
        return UpdateContextResult(memories=MemoryQueryResult(results=list(self._contents)))

    async def query(
        self,
        query: str | MemoryContent = "",
        cancellation_token: CancellationToken | None = None,
        **kwargs: Any,
    ) -> MemoryQueryResult:
        return MemoryQueryResult(results=list(self._contents))

    async def add(self, content: MemoryContent, cancellation_token: CancellationToken | None = None) -> None:
        self._contents.append(content)

    async def clear(self) -> None:
        self._contents = []

    async def close(self) -> None:
        pass

    def _to_config(self) -> ListMemoryConfig:
        return ListMemoryConfig(name=self._name, memory_contents=list(self._contents))

    @classmethod
    def _from_config(cls, config: ListMemoryConfig) -> Self:
        return cls(name=config.name, memory_contents=config.memory_contents)
