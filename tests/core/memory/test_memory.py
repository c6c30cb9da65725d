from typing import Any

import pytest

from actorgen_core import Image
from actorgen_core.memory import (
    ListMemory,
    Memory,
    MemoryContent,
    MemoryMimeType,
    MemoryQueryResult,
)
from actorgen_core.model_context import BufferedChatCompletionContext, UnboundedChatCompletionContext
from actorgen_core.models import SystemMessage, UserMessage

PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def text(value: str) -> MemoryContent:
    return MemoryContent(content=value, mime_type=MemoryMimeType.TEXT)


async def test_empty_memory_leaves_context_alone() -> None:
    memory = ListMemory()
    assert memory.name == "default_list_memory"
    context = UnboundedChatCompletionContext()
    result = await memory.update_context(context)
    assert result.memories.results == []
    assert await context.get_messages() == []
    assert (await memory.query("anything")).results == []


async def test_add_query_and_order() -> None:
    memory = ListMemory(name="facts")
    for i in range(5):
        await memory.add(text(f"fact {i}"))
    result = await memory.query("unrelated query")
    assert isinstance(result, MemoryQueryResult)
    assert [r.content for r in result.results] == [f"fact {i}" for i in range(5)]
    assert memory.content[0].content == "fact 0"


async def test_update_context_adds_one_system_message_in_order() -> None:
    memory = ListMemory(
        memory_contents=[text("likes tea"), MemoryContent(content={"city": "Oslo"}, mime_type="application/json")]
    )
    context = BufferedChatCompletionContext(buffer_size=5, initial_messages=[UserMessage(content="hi", source="u")])
    result = await memory.update_context(context)
    assert len(result.memories.results) == 2
    messages = await context.get_messages()
    assert len(messages) == 2
    note = messages[1]
    assert isinstance(note, SystemMessage)
    assert "1. likes tea" in note.content
    assert '2. {"city": "Oslo"}' in note.content
    assert note.content.index("likes tea") < note.content.index("Oslo")


async def test_clear_and_content_setter() -> None:
    memory = ListMemory(memory_contents=[text("a")])
    await memory.clear()
    assert (await memory.query("")).results == []
    memory.content = [text("b")]
    assert [r.content for r in (await memory.query("")).results] == ["b"]
    await memory.close()


async def test_content_types_are_preserved() -> None:
    memory = ListMemory()
    contents: list[Any] = ["text", {"k": [1, 2]}, b"raw bytes"]
    mime_types = [MemoryMimeType.TEXT, MemoryMimeType.JSON, MemoryMimeType.BINARY]
    for content, mime in zip(contents, mime_types, strict=True):
        await memory.add(MemoryContent(content=content, mime_type=mime))
    assert [r.content for r in (await memory.query("")).results] == contents


def test_memory_content_serializes_mime_type_as_string() -> None:
    item = MemoryContent(content="x", mime_type=MemoryMimeType.MARKDOWN, metadata={"source": "doc"})
    assert item.model_dump()["mime_type"] == "text/markdown"
    image_item = MemoryContent(content=Image.from_base64(PNG_1X1), mime_type=MemoryMimeType.IMAGE)
    restored = MemoryContent.model_validate_json(image_item.model_dump_json())
    assert restored.content == image_item.content


async def test_component_round_trip() -> None:
    memory = ListMemory(name="facts", memory_contents=[text("a"), text("b")])
    model = memory.dump_component()
    assert model.provider == "actorgen_core.memory.ListMemory"
    assert model.component_type == "memory"
    assert model.config["name"] == "facts"
    assert [c["content"] for c in model.config["memory_contents"]] == ["a", "b"]
    loaded = Memory.load_component(model)
    assert isinstance(loaded, ListMemory) and loaded.name == "facts"
    assert [r.content for r in (await loaded.query("")).results] == ["a", "b"]


def test_memory_is_abstract() -> None:
    with pytest.raises(TypeError):
        Memory()  # type: ignore[abstract]
