"""ReplayChatCompletionClient: scripted answers, recorded requests, deterministic usage."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from actorgen_core import CancellationToken, FunctionCall
from actorgen_core.models import ChatCompletionClient, CreateResult, ModelInfo, RequestUsage, SystemMessage, UserMessage
from actorgen_core.tools import ToolSchema
from actorgen_ext.models.replay import ReplayChatCompletionClient

HELLO = [SystemMessage(content="You are terse."), UserMessage(content="say hello to the world", source="user")]
CALL = CreateResult(
    finish_reason="function_calls",
    content=[FunctionCall(id="call_1", arguments='{"x": 1}', name="double")],
    usage=RequestUsage(prompt_tokens=0, completion_tokens=4),
    cached=False,
)
DOUBLE = ToolSchema(name="double", parameters={"type": "object", "properties": {"x": {"type": "integer"}}})


class Answer(BaseModel):
    value: int


async def test_responses_come_in_order_with_deterministic_usage() -> None:
    client = ReplayChatCompletionClient(["Hello there world", CALL])
    first = await client.create(HELLO)
    assert (first.content, first.finish_reason, first.cached) == ("Hello there world", "stop", True)
    assert first.usage == RequestUsage(prompt_tokens=3 + 5, completion_tokens=3)  # whitespace-separated words
    second = await client.create(HELLO, tools=[DOUBLE])
    assert second.content == CALL.content and second.finish_reason == "function_calls"
    assert client.actual_usage() == RequestUsage(prompt_tokens=8, completion_tokens=4)  # the last call
    assert client.total_usage() == RequestUsage(prompt_tokens=16, completion_tokens=7)
    assert client.count_tokens(HELLO) == 8
    assert client.remaining_tokens(HELLO) == 10_000 - 23


async def test_every_request_is_recorded() -> None:
    client = ReplayChatCompletionClient(['{"value": 2}'])
    await client.create(HELLO, tools=[DOUBLE], json_output=Answer, extra_create_args={"temperature": 0})
    [call] = client.create_calls
    assert call["messages"] == HELLO
    assert call["tools"] == [DOUBLE]
    assert call["json_output"] is Answer
    assert call["extra_create_args"] == {"temperature": 0}
    assert call["tool_choice"] == "auto"


async def test_exhausted_script_is_a_clear_error_and_reset_replays() -> None:
    client = ReplayChatCompletionClient(["only one"])
    await client.create(HELLO)
    with pytest.raises(ValueError, match="No more mock responses available: all 1 scripted"):
        await client.create(HELLO)
    client.reset()
    assert client.total_usage() == RequestUsage(0, 0) and client.create_calls == []
    assert (await client.create(HELLO)).content == "only one"


async def test_stream_yields_chunks_that_rebuild_the_text_then_the_result() -> None:
    text = "Hello,  world!\nSecond line"
    client = ReplayChatCompletionClient([text, CALL])
    items = [item async for item in client.create_stream(HELLO)]
    chunks, result = items[:-1], items[-1]
    assert len(chunks) == 4 and all(isinstance(c, str) for c in chunks)
    assert "".join(str(c) for c in chunks) == text
    assert isinstance(result, CreateResult) and result.content == text
    calls = [item async for item in client.create_stream(HELLO)]
    assert len(calls) == 1 and isinstance(calls[0], CreateResult) and calls[0].content == CALL.content


async def test_a_cancelled_token_stops_the_call() -> None:
    client = ReplayChatCompletionClient(["never seen"])
    token = CancellationToken()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await client.create(HELLO, cancellation_token=token)


async def test_model_info_defaults_to_everything_and_can_be_given() -> None:
    assert ReplayChatCompletionClient([]).model_info["function_calling"] is True
    info = ModelInfo(vision=False, function_calling=False, json_output=True, family="r1", structured_output=False)
    assert ReplayChatCompletionClient([], model_info=info).model_info == info
    with pytest.raises(ValueError, match="family"):
        ReplayChatCompletionClient([], model_info={"vision": False})  # type: ignore[typeddict-item]
    with pytest.raises(TypeError, match="str or CreateResult"):
        ReplayChatCompletionClient([42])  # type: ignore[list-item]


async def test_component_round_trip_through_json() -> None:
    client = ReplayChatCompletionClient(["a b", CALL])
    model = client.dump_component()
    assert model.provider == "actorgen_ext.models.replay.ReplayChatCompletionClient"
    loaded = ChatCompletionClient.load_component(model.model_dump(mode="json"))
    assert isinstance(loaded, ReplayChatCompletionClient)
    assert (await loaded.create(HELLO)).content == "a b"
    assert (await loaded.create(HELLO)).content == CALL.content
