import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from actorgen_core import (
    EVENT_LOGGER_NAME,
    AgentId,
    CancellationToken,
    FunctionCall,
    SingleThreadedAgentRuntime,
)
from actorgen_core.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    RequestUsage,
    UserMessage,
)
from actorgen_core.tool_agent import (
    InvalidToolArgumentsException,
    ToolAgent,
    ToolException,
    ToolExecutionException,
    ToolNotFoundException,
    tool_agent_caller_loop,
)
from actorgen_core.tools import FunctionTool, Tool, ToolSchema

from ..models.fake_clients import FakeClientBase


def add(x: int, y: int) -> int:
    return x + y


def explode() -> str:
    raise RuntimeError("kaboom")


async def wait_long() -> str:
    await asyncio.sleep(30)
    return "late"


class ScriptedClient(FakeClientBase):
    """Returns the scripted results in order and records the messages and tools of every call."""

    function_calling = True

    def __init__(self, script: list[str | list[FunctionCall]]) -> None:
        self.script = list(script)
        self.calls: list[tuple[list[LLMMessage], list[Any]]] = []

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        self.calls.append((list(messages), list(tools)))
        content = self.script.pop(0)
        reason: Literal["stop", "function_calls"] = "stop" if isinstance(content, str) else "function_calls"
        return CreateResult(
            finish_reason=reason, content=content, usage=RequestUsage(1, 1), cached=False, thought="thinking"
        )


TOOLS: list[Tool] = [
    FunctionTool(add, description="Add two numbers"),
    FunctionTool(explode, description="Fails"),
    FunctionTool(wait_long, description="Takes long"),
]


@pytest.fixture
async def runtime() -> AsyncGenerator[SingleThreadedAgentRuntime, None]:
    runtime = SingleThreadedAgentRuntime()
    await ToolAgent.register(runtime, "tools", lambda: ToolAgent("runs tools", TOOLS))
    runtime.start()
    yield runtime
    await runtime.stop()


TOOL_AGENT = AgentId("tools", "default")


async def test_tool_agent_runs_tools(runtime: SingleThreadedAgentRuntime, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=EVENT_LOGGER_NAME):
        result = await runtime.send_message(FunctionCall(id="c1", arguments='{"x": 2, "y": 3}', name="add"), TOOL_AGENT)
    assert result == FunctionExecutionResult(content="5", name="add", call_id="c1", is_error=False)
    tool_events = [json.loads(str(r.msg)) for r in caplog.records if "ToolCall" in str(r.msg)]
    assert len(tool_events) == 1
    assert tool_events[0]["tool_name"] == "add"
    assert tool_events[0]["agent_id"] == str(TOOL_AGENT)


@pytest.mark.parametrize(
    ("call", "exception", "content"),
    [
        (
            FunctionCall(id="c2", arguments="{}", name="missing"),
            ToolNotFoundException,
            "Error: Tool not found: missing",
        ),
        (FunctionCall(id="c3", arguments="{not json", name="add"), InvalidToolArgumentsException, "Error: Invalid"),
        (FunctionCall(id="c4", arguments="[1, 2]", name="add"), InvalidToolArgumentsException, "Error: Invalid"),
        (FunctionCall(id="c5", arguments="{}", name="explode"), ToolExecutionException, "Error: kaboom"),
        (FunctionCall(id="c6", arguments='{"x": "a"}', name="add"), ToolExecutionException, "Error: 2 validation"),
    ],
)
async def test_tool_agent_errors(
    runtime: SingleThreadedAgentRuntime, call: FunctionCall, exception: type[ToolException], content: str
) -> None:
    with pytest.raises(exception) as info:
        await runtime.send_message(call, TOOL_AGENT)
    assert info.value.call_id == call.id
    assert info.value.name == call.name
    assert info.value.content.startswith(content)
    assert str(info.value) == info.value.content


async def test_tool_agent_cancellation(runtime: SingleThreadedAgentRuntime) -> None:
    token = CancellationToken()
    call = asyncio.ensure_future(
        runtime.send_message(
            FunctionCall(id="c7", arguments="{}", name="wait_long"), TOOL_AGENT, cancellation_token=token
        )
    )
    await asyncio.sleep(0.05)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call


async def test_caller_loop(runtime: SingleThreadedAgentRuntime) -> None:
    client = ScriptedClient(
        [
            [
                FunctionCall(id="a", arguments='{"x": 1, "y": 2}', name="add"),
                FunctionCall(id="b", arguments="{}", name="explode"),
            ],
            [FunctionCall(id="c", arguments='{"x": 10, "y": 20}', name="add")],
            "the answer is 30",
        ]
    )
    schemas = [tool.schema for tool in TOOLS]
    question = UserMessage(content="compute", source="user")
    generated = await tool_agent_caller_loop(runtime, TOOL_AGENT, client, [question], schemas, caller_source="me")

    assert [type(m) for m in generated] == [
        AssistantMessage,
        FunctionExecutionResultMessage,
        AssistantMessage,
        FunctionExecutionResultMessage,
        AssistantMessage,
    ]
    first_results = generated[1]
    assert isinstance(first_results, FunctionExecutionResultMessage)
    assert first_results.content[0] == FunctionExecutionResult(content="3", name="add", call_id="a", is_error=False)
    failed = first_results.content[1]
    assert failed.is_error and failed.call_id == "b" and failed.content == "Error: kaboom"
    final = generated[-1]
    assert isinstance(final, AssistantMessage)
    assert final.content == "the answer is 30" and final.source == "me" and final.thought == "thinking"
    # Each model call sees the input plus everything generated so far, and the tools.
    assert [len(messages) for messages, _ in client.calls] == [1, 3, 5]
    assert client.calls[2][0][1:] == generated[:4]
    assert client.calls[0][1] == schemas


async def test_caller_loop_without_calls_returns_one_message(runtime: SingleThreadedAgentRuntime) -> None:
    client = ScriptedClient(["hello"])
    generated = await tool_agent_caller_loop(runtime, TOOL_AGENT, client, [UserMessage(content="hi", source="u")], [])
    assert generated == [AssistantMessage(content="hello", thought="thinking", source="assistant")]


async def test_caller_loop_raises_non_tool_errors(runtime: SingleThreadedAgentRuntime) -> None:
    client = ScriptedClient([[FunctionCall(id="a", arguments="{}", name="add")]])
    with pytest.raises(LookupError):
        await tool_agent_caller_loop(
            runtime, AgentId("no_such_type", "default"), client, [UserMessage(content="hi", source="u")], []
        )
