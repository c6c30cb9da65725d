from collections.abc import Sequence
from typing import Self

import pytest
from pydantic import BaseModel

from actorgen_core import Component, FunctionCall
from actorgen_core.model_context import (
    BufferedChatCompletionContext,
    ChatCompletionContext,
    HeadAndTailChatCompletionContext,
    TokenLimitedChatCompletionContext,
    UnboundedChatCompletionContext,
)
from actorgen_core.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from actorgen_core.tools import Tool, ToolSchema

from ..models.fake_clients import FakeClientBase


class WordCountingClientConfig(BaseModel):
    capacity: int = 1000


class WordCountingClient(FakeClientBase, Component[WordCountingClientConfig]):
    """Counts one token per whitespace-separated word of each message's text; never called."""

    component_type = "model"
    component_config_schema = WordCountingClientConfig

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity

    @staticmethod
    def _words(message: LLMMessage) -> int:
        content = message.content
        if isinstance(content, str):
            return len(content.split())
        return sum(len(str(part).split()) for part in content)

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return sum(self._words(m) for m in messages) + 10 * len(tools)

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return self.capacity - self.count_tokens(messages, tools=tools)

    def _to_config(self) -> WordCountingClientConfig:
        return WordCountingClientConfig(capacity=self.capacity)

    @classmethod
    def _from_config(cls, config: WordCountingClientConfig) -> Self:
        return cls(capacity=config.capacity)


def user(text: str) -> UserMessage:
    return UserMessage(content=text, source="user")


def assistant(text: str) -> AssistantMessage:
    return AssistantMessage(content=text, source="assistant")


CALL = AssistantMessage(content=[FunctionCall(id="1", arguments="{}", name="f")], source="assistant")
RESULT = FunctionExecutionResultMessage(content=[FunctionExecutionResult(content="ok", name="f", call_id="1")])


async def round_trip_state(context: ChatCompletionContext, fresh: ChatCompletionContext) -> None:
    state = await context.save_state()
    await fresh.load_state(state)
    assert await fresh.get_messages() == await context.get_messages()


async def test_unbounded() -> None:
    context = UnboundedChatCompletionContext(initial_messages=[SystemMessage(content="sys")])
    for i in range(3):
        await context.add_message(user(f"m{i}"))
    messages = await context.get_messages()
    assert [m.content for m in messages] == ["sys", "m0", "m1", "m2"]
    messages.clear()  # the returned list is a copy
    assert len(await context.get_messages()) == 4
    await round_trip_state(context, UnboundedChatCompletionContext())
    await context.clear()
    assert await context.get_messages() == []


async def test_buffered_keeps_last_messages() -> None:
    context = BufferedChatCompletionContext(buffer_size=2)
    for text in ["a", "b", "c"]:
        await context.add_message(user(text))
    assert [m.content for m in await context.get_messages()] == ["b", "c"]
    fresh = BufferedChatCompletionContext(buffer_size=2)
    await round_trip_state(context, fresh)
    assert (await fresh.save_state())["messages"][0]["content"] == "a"  # state keeps everything
    await context.clear()
    assert await context.get_messages() == []


async def test_buffered_drops_orphaned_function_results() -> None:
    context = BufferedChatCompletionContext(buffer_size=2, initial_messages=[user("q"), CALL, RESULT, assistant("a")])
    assert await context.get_messages() == [assistant("a")]
    context = BufferedChatCompletionContext(buffer_size=3, initial_messages=[user("q"), CALL, RESULT, assistant("a")])
    assert await context.get_messages() == [CALL, RESULT, assistant("a")]


@pytest.mark.parametrize("size", [0, -1])
def test_invalid_sizes(size: int) -> None:
    with pytest.raises(ValueError, match="buffer_size"):
        BufferedChatCompletionContext(buffer_size=size)
    with pytest.raises(ValueError, match="head_size"):
        HeadAndTailChatCompletionContext(head_size=size, tail_size=1)
    with pytest.raises(ValueError, match="tail_size"):
        HeadAndTailChatCompletionContext(head_size=1, tail_size=size)
    with pytest.raises(ValueError, match="token_limit"):
        TokenLimitedChatCompletionContext(WordCountingClient(), token_limit=size)


async def test_head_and_tail_with_skipped_note() -> None:
    context = HeadAndTailChatCompletionContext(head_size=1, tail_size=1)
    for text in ["first", "b", "c", "d", "last"]:
        await context.add_message(user(text))
    messages = await context.get_messages()
    assert len(messages) == 3
    assert messages[0] == user("first") and messages[2] == user("last")
    note = messages[1]
    assert isinstance(note, UserMessage) and note.source == "System" and "3" in note.content
    await round_trip_state(context, HeadAndTailChatCompletionContext(head_size=1, tail_size=1))


async def test_head_and_tail_returns_everything_when_it_fits() -> None:
    context = HeadAndTailChatCompletionContext(head_size=2, tail_size=2, initial_messages=[user("a"), user("b")])
    assert await context.get_messages() == [user("a"), user("b")]
    await context.add_message(user("c"))
    await context.add_message(user("d"))
    assert len(await context.get_messages()) == 4


async def test_head_and_tail_keeps_calls_with_results() -> None:
    messages: list[LLMMessage] = [user("q"), CALL, RESULT, user("x"), user("y"), CALL, RESULT, assistant("done")]
    context = HeadAndTailChatCompletionContext(head_size=2, tail_size=2, initial_messages=messages)
    view = await context.get_messages()
    # The head loses its dangling call; the tail loses its orphaned result.
    assert view[0] == user("q")
    assert isinstance(view[1], UserMessage) and "4" in str(view[1].content)
    assert view[2:] == [assistant("done")]


async def test_token_limited_removes_middle_messages() -> None:
    messages: list[LLMMessage] = [user("one two"), user("three four"), user("five six"), user("seven eight")]
    context = TokenLimitedChatCompletionContext(WordCountingClient(), token_limit=5, initial_messages=messages)
    view = await context.get_messages()
    assert view == [user("one two"), user("seven eight")]
    fresh = TokenLimitedChatCompletionContext(WordCountingClient(), token_limit=5)
    await round_trip_state(context, fresh)


async def test_token_limited_counts_tools() -> None:
    tool: ToolSchema = {"name": "t"}
    messages: list[LLMMessage] = [user("a b"), user("c d"), user("e f")]
    with_tool = TokenLimitedChatCompletionContext(
        WordCountingClient(), token_limit=14, tool_schema=[tool], initial_messages=messages
    )
    assert len(await with_tool.get_messages()) == 2
    without = TokenLimitedChatCompletionContext(WordCountingClient(), token_limit=14, initial_messages=messages)
    assert len(await without.get_messages()) == 3


async def test_token_limited_without_limit_uses_remaining_tokens() -> None:
    messages: list[LLMMessage] = [user("a b c"), user("d e f"), user("g h i")]
    roomy = TokenLimitedChatCompletionContext(WordCountingClient(capacity=100), initial_messages=messages)
    assert len(await roomy.get_messages()) == 3
    tight = TokenLimitedChatCompletionContext(WordCountingClient(capacity=6), initial_messages=messages)
    assert await tight.get_messages() == [user("a b c"), user("g h i")]


async def test_token_limited_drops_leading_function_result() -> None:
    messages: list[LLMMessage] = [RESULT, user("a b c d"), assistant("e")]
    context = TokenLimitedChatCompletionContext(WordCountingClient(), token_limit=100, initial_messages=messages)
    assert await context.get_messages() == [user("a b c d"), assistant("e")]


@pytest.mark.usefixtures("trust_test_components")
async def test_component_round_trips() -> None:
    initial: list[LLMMessage] = [SystemMessage(content="s"), user("u")]
    contexts: list[ChatCompletionContext] = [
        UnboundedChatCompletionContext(initial_messages=initial),
        BufferedChatCompletionContext(buffer_size=3, initial_messages=initial),
        HeadAndTailChatCompletionContext(head_size=1, tail_size=2, initial_messages=initial),
        TokenLimitedChatCompletionContext(WordCountingClient(capacity=7), token_limit=50, initial_messages=initial),
    ]
    for context in contexts:
        model = context.dump_component()
        assert model.provider == f"actorgen_core.model_context.{type(context).__name__}"
        assert model.component_type == "chat_completion_context"
        loaded = ChatCompletionContext.load_component(model)
        assert type(loaded) is type(context)
        assert await loaded.get_messages() == await context.get_messages()
        assert loaded.dump_component() == model
    token_model = contexts[3].dump_component()
    assert token_model.config["model_client"]["config"] == {"capacity": 7}
