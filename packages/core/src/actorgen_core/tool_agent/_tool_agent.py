"""ToolAgent: an agent that executes function calls with its tools and answers with the result."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..base import MessageContext
from ..base._function_call import FunctionCall
from ..components import RoutedAgent, message_handler
from ..models._types import FunctionExecutionResult
from ..tools._base import Tool

__all__ = [
    "ToolAgent",
    "ToolException",
    "ToolNotFoundException",
    "InvalidToolArgumentsException",
    "ToolExecutionException",
]


@dataclass
class ToolException(BaseException):
    """A function call that could not be executed; ``content`` is the text to show the model.

    A BaseException, as in autogen_core, so that ``except Exception`` in handlers between the
    tool agent and the caller does not swallow it.
    """

    call_id: str
    content: str
    name: str

    def __str__(self) -> str:
        return self.content


@dataclass
class ToolNotFoundException(ToolException):
    pass


@dataclass
class InvalidToolArgumentsException(ToolException):
    pass


@dataclass
class ToolExecutionException(ToolException):
    pass


class ToolAgent(RoutedAgent):
    """Runs the tool named by each :class:`FunctionCall` it receives and replies with a
    :class:`FunctionExecutionResult`; failures are raised to the caller as :class:`ToolException`\\ s."""

    def __init__(self, description: str, tools: list[Tool]) -> None:
        super().__init__(description)
        self._tools = tools

    @property
    def tools(self) -> list[Tool]:
        return self._tools

    @message_handler
    async def handle_function_call(self, message: FunctionCall, ctx: MessageContext) -> FunctionExecutionResult:
        tool = next((t for t in self._tools if t.name == message.name), None)
        if tool is None:
            raise ToolNotFoundException(
                call_id=message.id, content=f"Error: Tool not found: {message.name}", name=message.name
            )
        try:
            arguments = json.loads(message.arguments)
        except json.JSONDecodeError as e:
            raise InvalidToolArgumentsException(
                call_id=message.id, content=f"Error: Invalid arguments: {message.arguments}", name=message.name
            ) from e
        if not isinstance(arguments, dict):
            raise InvalidToolArgumentsException(
                call_id=message.id, content=f"Error: Invalid arguments: {message.arguments}", name=message.name
            )
        try:
            result = await tool.run_json(arguments, ctx.cancellation_token, call_id=message.id)
        except Exception as e:
            raise ToolExecutionException(call_id=message.id, content=f"Error: {e}", name=message.name) from e
        return FunctionExecutionResult(
            content=tool.return_value_as_string(result), call_id=message.id, is_error=False, name=message.name
        )
