"""OpenAIChatCompletionClient against a real HTTP server on 127.0.0.1 speaking chat completions."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from actorgen_core import EVENT_LOGGER_NAME, CancellationToken, FunctionCall, Image
from actorgen_core.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    ModelInfo,
    SystemMessage,
    UserMessage,
)
from actorgen_core.tools import FunctionTool, ToolSchema
from actorgen_ext.models.openai import (
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    OpenAIChatCompletionClient,
    OpenAIError,
)

from .fake_openai_server import FakeOpenAIServer, Reply, chunk, completion, tool_call, usage_chunk

KEY = "sk-proj-VERY-SECRET-key-1234567890"
LOCAL_INFO = ModelInfo(vision=False, function_calling=True, json_output=True, family="unknown", structured_output=True)
USER = UserMessage(content="What is the weather in Paris?", source="user")


@pytest.fixture
async def client(server: FakeOpenAIServer) -> AsyncIterator[OpenAIChatCompletionClient]:
    c = OpenAIChatCompletionClient(model="gpt-4o", api_key=KEY, base_url=server.base_url, max_retries=2)
    c._http.retry = type(c._http.retry)(max_retries=2, initial_delay=0.01, max_delay=0.05)
    yield c
    await c.close()


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


WEATHER = FunctionTool(get_weather, description="Current weather for a city.")
TIME_SCHEMA = ToolSchema(
    name="get_time",
    description="Current time in a timezone.",
    parameters={"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
)


# -- plain completions ------------------------------------------------------------------------


async def test_create_sends_the_chat_completions_request_and_parses_the_answer(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    server.script(Reply(200, completion("Sunny.", prompt_tokens=20, completion_tokens=2)))
    result = await client.create(
        [SystemMessage(content="Be brief."), USER], extra_create_args={"temperature": 0.2, "seed": 7}
    )
    assert result == CreateResult(
        finish_reason="stop", content="Sunny.", usage=result.usage, cached=False, logprobs=None, thought=None
    )
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (20, 2)
    request = server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json() == {
        "model": "gpt-4o",
        "temperature": 0.2,
        "seed": 7,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is the weather in Paris?", "name": "user"},
        ],
    }


async def test_usage_accumulates_over_calls(server: FakeOpenAIServer, client: OpenAIChatCompletionClient) -> None:
    server.script(
        Reply(200, completion("a", prompt_tokens=10, completion_tokens=1)),
        Reply(200, completion("b", prompt_tokens=30, completion_tokens=4)),
    )
    await client.create([USER])
    await client.create([USER])
    assert (client.total_usage().prompt_tokens, client.total_usage().completion_tokens) == (40, 5)
    assert (client.actual_usage().prompt_tokens, client.actual_usage().completion_tokens) == (40, 5)


async def test_conversation_history_is_translated(server: FakeOpenAIServer) -> None:
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    server.script(Reply(200, completion("done")))
    client = OpenAIChatCompletionClient(model="gpt-4o", api_key=KEY, base_url=server.base_url)
    call = FunctionCall(id="call_1", name="get_weather", arguments='{"city": "Paris"}')
    await client.create(
        [
            UserMessage(content=["Look:", Image.from_base64(base64.b64encode(png).decode())], source="alice smith"),
            AssistantMessage(content=[call], thought="I should check.", source="assistant"),
            FunctionExecutionResultMessage(
                content=[FunctionExecutionResult(content="sunny", name="get_weather", call_id="call_1")]
            ),
        ]
    )
    await client.close()
    messages = server.requests[0].json()["messages"]
    assert messages[0]["name"] == "alice_smith"  # sanitized for the API
    assert messages[0]["content"][0] == {"type": "text", "text": "Look:"}
    assert messages[0]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert messages[1] == {
        "role": "assistant",
        "content": "I should check.",
        "name": "assistant",
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
        ],
    }
    assert messages[2] == {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}


async def test_images_are_refused_for_a_model_without_vision(server: FakeOpenAIServer) -> None:
    client = OpenAIChatCompletionClient(model="local", base_url=server.base_url, model_info=LOCAL_INFO)
    image = Image.from_base64(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    with pytest.raises(ValueError, match="does not support vision"):
        await client.create([UserMessage(content=["see", image], source="u")])
    assert server.requests == []


async def test_r1_family_thoughts_are_split_from_the_answer(server: FakeOpenAIServer) -> None:
    server.script(Reply(200, completion("<think>2+2 is 4</think>\nThe answer is 4.")))
    info = ModelInfo(vision=False, function_calling=False, json_output=False, family="r1", structured_output=False)
    client = OpenAIChatCompletionClient(model="deepseek-r1", base_url=server.base_url, model_info=info)
    result = await client.create([USER])
    await client.close()
    assert (result.thought, result.content) == ("2+2 is 4", "The answer is 4.")


# -- tools ------------------------------------------------------------------------------------


async def test_tool_calls_request_and_result(server: FakeOpenAIServer, client: OpenAIChatCompletionClient) -> None:
    server.script(
        Reply(
            200,
            completion(
                "Let me check.",
                tool_calls=[
                    tool_call("call_a", "get_weather", {"city": "Paris"}),
                    tool_call("call_b", "get_time", {"tz": "CET"}),
                ],
                finish_reason="tool_calls",
            ),
        )
    )
    result = await client.create([USER], tools=[WEATHER, TIME_SCHEMA], tool_choice=WEATHER)
    assert result.finish_reason == "function_calls"
    assert result.content == [
        FunctionCall(id="call_a", arguments='{"city": "Paris"}', name="get_weather"),
        FunctionCall(id="call_b", arguments='{"tz": "CET"}', name="get_time"),
    ]
    assert result.thought == "Let me check."
    body = server.requests[0].json()
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather", "get_time"]
    assert body["tools"][0]["type"] == "function"
    assert body["tools"][0]["function"]["parameters"]["properties"]["city"]["type"] == "string"
    assert body["tools"][1]["function"]["parameters"] == TIME_SCHEMA["parameters"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


async def test_tool_calls_in_the_dialect_of_local_servers(server: FakeOpenAIServer) -> None:
    # Ollama reports finish_reason "stop" with tool calls; some servers send arguments as an object, no id.
    raw_call = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}
    server.script(Reply(200, completion(None, tool_calls=[raw_call], finish_reason="stop")))
    client = OpenAIChatCompletionClient(model="qwen3", base_url=server.base_url, model_info=LOCAL_INFO)
    result = await client.create([USER], tools=[WEATHER])
    await client.close()
    assert result.finish_reason == "function_calls"
    assert isinstance(result.content, list)
    [call] = result.content
    assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "Oslo"})
    assert call.id.startswith("call_")
    assert "authorization" not in server.requests[0].headers  # no key configured, none sent


async def test_tools_are_refused_for_a_model_without_function_calling(server: FakeOpenAIServer) -> None:
    info = ModelInfo(vision=False, function_calling=False, json_output=False, family="unknown", structured_output=False)
    client = OpenAIChatCompletionClient(model="tiny", base_url=server.base_url, model_info=info)
    with pytest.raises(ValueError, match="function calling"):
        await client.create([USER], tools=[WEATHER])
    with pytest.raises(ValueError, match="JSON output"):
        await client.create([USER], json_output=True)
    assert server.requests == []


async def test_tool_choice_must_name_a_given_tool(client: OpenAIChatCompletionClient) -> None:
    with pytest.raises(ValueError, match="not among the tools"):
        await client.create([USER], tools=[TIME_SCHEMA], tool_choice=WEATHER)


# -- JSON output ------------------------------------------------------------------------------


class Forecast(BaseModel):
    city: str
    celsius: float
    note: str | None = None


async def test_json_mode_and_structured_output_request_bodies(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    server.script(
        Reply(200, completion('{"ok": true}')),
        Reply(200, completion('{"city": "Paris", "celsius": 21.5, "note": null}')),
    )
    first = await client.create([USER], json_output=True)
    second = await client.create([USER], json_output=Forecast)
    assert first.content == '{"ok": true}'
    assert Forecast.model_validate_json(str(second.content)) == Forecast(city="Paris", celsius=21.5)
    assert server.requests[0].json()["response_format"] == {"type": "json_object"}
    response_format = server.requests[1].json()["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Forecast"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["city", "celsius", "note"]  # strict mode: every key required
    assert "default" not in json.dumps(schema)


async def test_response_format_class_is_a_deprecated_json_output(server: FakeOpenAIServer) -> None:
    # The spelling of AutoGen's model-client and structured-output guides (issue 7, item 9). It
    # used to fail at send time with "Object of type ModelMetaclass is not JSON serializable".
    reply = '{"city": "Paris", "celsius": 21.5, "note": null}'
    server.script(Reply(200, completion(reply)), Reply(200, completion(reply)), Reply(200, completion("{}")))
    with pytest.warns(DeprecationWarning, match="json_output"):
        client = OpenAIChatCompletionClient(
            model="gpt-4o", api_key=KEY, base_url=server.base_url, response_format=Forecast
        )
    try:
        result = await client.create([USER])
        assert Forecast.model_validate_json(str(result.content)).city == "Paris"
        sent = server.requests[0].json()["response_format"]
        assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "Forecast"

        with pytest.warns(DeprecationWarning, match="json_output"):
            await client.create([USER], extra_create_args={"response_format": Forecast})
        assert server.requests[1].json()["response_format"] == sent

        await client.create([USER], json_output=False)  # the per-call switch still wins
        assert "response_format" not in server.requests[2].json()

        # A config holds data: the class is dumped as the request format it stands for.
        assert client.dump_component().config["response_format"] == sent
    finally:
        await client.close()


async def test_response_format_class_in_extra_create_args(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    server.script(Reply(200, completion('{"city": "Oslo", "celsius": 3}')))
    with pytest.warns(DeprecationWarning):
        result = await client.create([USER], extra_create_args={"response_format": Forecast})
    assert Forecast.model_validate_json(str(result.content)).city == "Oslo"
    assert server.requests[0].json()["response_format"]["json_schema"]["name"] == "Forecast"


class Other(BaseModel):
    x: int


async def test_a_class_in_both_json_output_and_response_format_is_refused_before_sending(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(ValueError, match=r"json_output=Other.*response_format=Forecast"),
    ):
        await client.create([USER], json_output=Other, extra_create_args={"response_format": Forecast})
    with pytest.warns(DeprecationWarning):
        both = OpenAIChatCompletionClient(
            model="gpt-4o", api_key=KEY, base_url=server.base_url, response_format=Forecast
        )
    try:
        with pytest.raises(ValueError, match="given twice"):
            await both.create([USER], json_output=Other)
    finally:
        await both.close()
    assert server.requests == []


# -- streaming --------------------------------------------------------------------------------


async def test_stream_yields_chunks_then_the_result_with_usage(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    server.script(
        Reply(
            sse_events=[
                chunk({"role": "assistant", "content": ""}),
                chunk({"content": "Sunny"}),
                chunk({"content": " and warm."}),
                chunk({}, "stop"),
                usage_chunk(42, 5),
                "[DONE]",
            ]
        )
    )
    items = [item async for item in client.create_stream([USER])]
    assert items[:-1] == ["Sunny", " and warm."]
    result = items[-1]
    assert isinstance(result, CreateResult)
    assert (result.content, result.finish_reason) == ("Sunny and warm.", "stop")
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (42, 5)
    assert client.total_usage().prompt_tokens == 42
    body = server.requests[0].json()
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert server.requests[0].headers["accept"] == "text/event-stream"


async def test_stream_assembles_fragmented_tool_calls(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    server.script(
        Reply(
            sse_events=[
                chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_x",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ],
                    }
                ),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Rome"}'}}]}),
                chunk(
                    {
                        "tool_calls": [
                            {"index": 1, "id": "call_y", "function": {"name": "get_time", "arguments": '{"tz": "CET"}'}}
                        ]
                    }
                ),
                chunk({}, "tool_calls"),
                "[DONE]",
            ]
        )
    )
    items = [item async for item in client.create_stream([USER], tools=[WEATHER, TIME_SCHEMA], include_usage=False)]
    assert len(items) == 1
    result = items[0]
    assert isinstance(result, CreateResult)
    assert result.finish_reason == "function_calls"
    assert result.content == [
        FunctionCall(id="call_x", arguments='{"city": "Rome"}', name="get_weather"),
        FunctionCall(id="call_y", arguments='{"tz": "CET"}', name="get_time"),
    ]
    assert "stream_options" not in server.requests[0].json()


async def test_stream_cancellation_stops_waiting_for_a_stalled_server(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    server.script(Reply(sse_events=[chunk({"content": "one"}), 10.0, chunk({"content": "late"}), "[DONE]"]))
    token = CancellationToken()
    seen: list[Any] = []

    async def consume() -> None:
        async for item in client.create_stream([USER], cancellation_token=token):
            seen.append(item)
            asyncio.get_running_loop().call_later(0.2, token.cancel)

    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(consume(), 5)
    assert time.monotonic() - started < 3
    assert seen == ["one"]


# -- errors, retries, timeouts, cancellation --------------------------------------------------


async def test_429_is_retried_after_the_servers_delay(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    server.script(
        Reply(429, {"error": {"message": "Rate limit reached", "type": "requests"}}, headers={"Retry-After": "0.25"}),
        Reply(200, completion("after the wait")),
    )
    result = await client.create([USER])
    assert result.content == "after the wait"
    assert len(server.requests) == 2
    assert server.request_times[1] - server.request_times[0] >= 0.25
    assert server.requests[0].body == server.requests[1].body  # the same request, replayed


async def test_500s_exhaust_the_retries(server: FakeOpenAIServer, client: OpenAIChatCompletionClient) -> None:
    server.script(*[Reply(500, {"error": {"message": "The server had an error"}})] * 3, Reply(200, completion()))
    with pytest.raises(InternalServerError, match="Error code: 500 - The server had an error") as info:
        await client.create([USER])
    assert info.value.status_code == 500
    assert len(server.requests) == 3  # 1 + max_retries


async def test_401_error_never_contains_the_key(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Reply(401, {"error": {"message": f"Incorrect API key provided: {KEY}.", "code": "invalid_api_key"}}))
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(AuthenticationError) as info:
            await client.create([USER])
    error = info.value
    assert error.status_code == 401
    assert "Incorrect API key provided: ***" in str(error)
    assert "OPENAI_API_KEY" in str(error)  # says how to fix it
    assert len(server.requests) == 1  # not retried
    for text in (str(error), repr(error), json.dumps(error.body), repr(client), str(vars(client)), caplog.text):
        assert KEY not in text


async def test_404_names_the_model(server: FakeOpenAIServer, client: OpenAIChatCompletionClient) -> None:
    server.script(Reply(404, {"error": {"message": "The model `gpt-4o` does not exist"}}))
    with pytest.raises(NotFoundError, match="does not exist") as info:
        await client.create([USER])
    assert "'gpt-4o'" in str(info.value) and server.base_url in str(info.value)
    assert len(server.requests) == 1


async def test_400_carries_the_server_text_and_is_not_retried(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    server.script(Reply(400, text_body="Unsupported parameter: 'foo'"))
    with pytest.raises(BadRequestError, match="Unsupported parameter: 'foo'"):
        await client.create([USER])
    assert len(server.requests) == 1


async def test_timeout_raises_a_typed_error(server: FakeOpenAIServer) -> None:
    server.script(Reply(200, completion(), delay=5.0))
    client = OpenAIChatCompletionClient(
        model="gpt-4o", api_key=KEY, base_url=server.base_url, timeout=0.3, max_retries=0
    )
    started = time.monotonic()
    with pytest.raises(APITimeoutError, match=r"timed out after 0\.3s"):
        await client.create([USER])
    assert time.monotonic() - started < 2
    await client.close()


async def test_cancellation_token_aborts_a_pending_request(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    server.script(Reply(200, completion(), delay=5.0))
    token = CancellationToken()
    asyncio.get_running_loop().call_later(0.2, token.cancel)
    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await client.create([USER], cancellation_token=token)
    assert time.monotonic() - started < 2
    assert client.total_usage().prompt_tokens == 0


# -- construction, config, accounting ---------------------------------------------------------


def test_unknown_models_need_a_valid_model_info() -> None:
    with pytest.raises(ValueError, match="model_info is required"):
        OpenAIChatCompletionClient(model="llama3.2", base_url="http://127.0.0.1:1/v1")
    with pytest.raises(ValueError, match="family"):
        OpenAIChatCompletionClient(
            model="llama3.2",
            base_url="http://127.0.0.1:1/v1",
            model_info={"vision": False, "function_calling": True, "json_output": True},  # type: ignore[typeddict-item]
        )
    known = OpenAIChatCompletionClient(model="gpt-4o-2024-08-06", api_key=KEY)
    assert known.model_info["family"] == "gpt-4o"


def test_the_openai_endpoint_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(OpenAIError, match="OPENAI_API_KEY"):
        OpenAIChatCompletionClient(model="gpt-4o")
    with pytest.raises(TypeError, match="temprature"):
        OpenAIChatCompletionClient(model="gpt-4o", api_key=KEY, temprature=0.1)  # type: ignore[call-arg]


async def test_extra_create_args_cannot_override_what_the_client_owns(client: OpenAIChatCompletionClient) -> None:
    with pytest.raises(ValueError, match="stream"):
        await client.create([USER], extra_create_args={"stream": True})


async def test_component_round_trip_keeps_a_passed_key_secret(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    client = OpenAIChatCompletionClient(
        model="local-model", api_key=KEY, base_url=server.base_url, model_info=LOCAL_INFO, temperature=0.5
    )
    model = client.dump_component()
    assert model.provider == "actorgen_ext.models.openai.OpenAIChatCompletionClient"
    as_json = model.model_dump_json()
    assert KEY not in as_json and "**********" in as_json
    assert KEY not in repr(model)

    server.script(Reply(200, completion()), Reply(200, completion()))
    loaded = ChatCompletionClient.load_component(model)  # in memory: the secret survives
    assert isinstance(loaded, OpenAIChatCompletionClient)
    await loaded.create([USER])
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert server.requests[0].json()["temperature"] == 0.5

    from_json = ChatCompletionClient.load_component(json.loads(as_json))  # through JSON: the mask, so the env key
    await from_json.create([USER])
    assert server.requests[1].headers["authorization"] == "Bearer sk-from-env"
    for c in (client, loaded, from_json):
        await c.close()


def test_a_key_from_the_environment_is_never_dumped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    client = OpenAIChatCompletionClient(model="gpt-4o")
    model = client.dump_component()
    assert "api_key" not in model.config
    assert KEY not in repr(client)


def test_well_known_provider_names_load_the_client() -> None:
    loaded = ChatCompletionClient.load_component(
        {"provider": "OpenAIChatCompletionClient", "config": {"model": "gpt-4o-mini", "api_key": KEY}}
    )
    assert isinstance(loaded, OpenAIChatCompletionClient)
    assert loaded.model_info["family"] == "gpt-4o"


def test_count_and_remaining_tokens_are_a_documented_estimate() -> None:
    client = OpenAIChatCompletionClient(model="gpt-4o", api_key=KEY)
    short = client.count_tokens([UserMessage(content="hi", source="u")])
    long = client.count_tokens([UserMessage(content="x" * 4000, source="u")])
    assert long - short == 1000 - 1  # 4 characters per token
    with_tools = client.count_tokens([UserMessage(content="hi", source="u")], tools=[WEATHER])
    assert with_tools > short
    assert client.remaining_tokens([UserMessage(content="hi", source="u")]) == 128_000 - short


async def test_calls_are_logged_as_events_without_the_key(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Reply(200, completion("logged", prompt_tokens=3, completion_tokens=1)))
    with caplog.at_level(logging.INFO, logger=EVENT_LOGGER_NAME):
        await client.create([USER])
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == EVENT_LOGGER_NAME]
    assert [(e["type"], e["prompt_tokens"], e["completion_tokens"]) for e in events] == [("LLMCall", 3, 1)]
    assert KEY not in caplog.text


async def test_single_system_message_models_get_them_merged(server: FakeOpenAIServer) -> None:
    server.script(Reply(200, completion()))
    info = ModelInfo(**{**LOCAL_INFO, "multiple_system_messages": False})
    client = OpenAIChatCompletionClient(
        model="gemma", base_url=server.base_url, model_info=info, add_name_prefixes=True, include_name_in_message=False
    )
    await client.create([SystemMessage(content="Rule one."), USER, SystemMessage(content="Rule two.")])
    await client.close()
    assert server.requests[0].json()["messages"] == [
        {"role": "system", "content": "Rule one.\n\nRule two."},
        {"role": "user", "content": "user said:\nWhat is the weather in Paris?"},
    ]


async def test_a_server_that_ignores_stream_true_still_works(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    server.script(Reply(200, completion("whole answer", prompt_tokens=9, completion_tokens=2)))  # plain JSON
    items = [item async for item in client.create_stream([USER])]
    assert items[0] == "whole answer"
    result = items[-1]
    assert isinstance(result, CreateResult)
    assert (result.content, result.usage.prompt_tokens, result.usage.completion_tokens) == ("whole answer", 9, 2)


class Place(BaseModel):
    name: str


class Trip(BaseModel):
    places: list[Place]
    days: int = 3


async def test_nested_structured_output_schemas_are_closed_everywhere(
    server: FakeOpenAIServer, client: OpenAIChatCompletionClient
) -> None:
    server.script(Reply(200, completion('{"places": [{"name": "Rome"}], "days": 2}')))
    await client.create([USER], json_output=Trip)
    schema = server.requests[0].json()["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["places", "days"]
    place = schema["$defs"]["Place"]
    assert (place["additionalProperties"], place["required"]) == (False, ["name"])
