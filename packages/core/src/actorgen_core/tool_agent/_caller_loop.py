"""The model ↔ tool-agent loop: call the model, run the function calls it asks for, repeat."""

from __future__ import annotations

import asyncio

from ..base import AgentId, AgentRuntime, BaseAgent, CancellationToken
from ..base._function_call import FunctionCall
from ..models._model_client import ChatCompletionClient
from ..models._types import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
)
from ..tools._base import Tool, ToolSchema
from ._tool_agent import ToolException

__all__ = ["tool_agent_caller_loop"]


def _is_function_calls(content: object) -> bool:
    return isinstance(content, list) and bool(content) and all(isinstance(c, FunctionCall) for c in content)


async def tool_agent_caller_loop(
    caller: BaseAgent | AgentRuntime,
    tool_agent_id: AgentId,
    model_client: ChatCompletionClient,
    input_messages: list[LLMMessage],
    tool_schema: list[ToolSchema] | list[Tool],
    cancellation_token: CancellationToken | None = None,
    caller_source: str = "assistant",
) -> list[LLMMessage]:
    """Call the model until it answers without function calls; return the messages produced.

    Function calls of one model response are sent to the tool agent concurrently. A
    :class:`ToolException` becomes an error result the model sees; any other exception is raised.
    The returned list starts with the first assistant message and ends with the final one.
    """
    generated: list[LLMMessage] = []
    response = await model_client.create(input_messages, tools=tool_schema, cancellation_token=cancellation_token)
    generated.append(AssistantMessage(content=response.content, thought=response.thought, source=caller_source))
    while _is_function_calls(response.content):
        calls = response.content
        assert isinstance(calls, list)
        outcomes = await asyncio.gather(
            *(
                caller.send_message(call, recipient=tool_agent_id, cancellation_token=cancellation_token)
                for call in calls
            ),
            return_exceptions=True,
        )
        results: list[FunctionExecutionResult] = []
        for call, outcome in zip(calls, outcomes, strict=True):
            if isinstance(outcome, FunctionExecutionResult):
                results.append(outcome)
            elif isinstance(outcome, ToolException):
                results.append(
                    FunctionExecutionResult(content=str(outcome), call_id=call.id, is_error=True, name=call.name)
                )
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                raise TypeError(
                    f"Tool agent {tool_agent_id} answered {call.name!r} with a {type(outcome).__name__}, "
                    "expected a FunctionExecutionResult"
                )
        generated.append(FunctionExecutionResultMessage(content=results))
        response = await model_client.create(
            [*input_messages, *generated], tools=tool_schema, cancellation_token=cancellation_token
        )
        generated.append(AssistantMessage(content=response.content, thought=response.thought, source=caller_source))
    return generated
