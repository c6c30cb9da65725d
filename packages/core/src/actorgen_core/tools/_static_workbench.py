"""StaticWorkbench: a fixed list of tools, optionally renamed or re-described for the model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, Field

from ..base import CancellationToken
from ..base._component_config import Component, ComponentModel
from ._base import BaseTool, StreamTool, ToolSchema
from ._workbench import StreamWorkbench, TextResultContent, ToolResult, Workbench

__all__ = [
    "ToolOverride",
    "StaticWorkbench",
    "StaticWorkbenchConfig",
    "StaticStreamWorkbench",
    "StaticWorkbenchState",
]


class ToolOverride(BaseModel):
    """What the model sees instead of a tool's own name and/or description."""

    name: str | None = None
    description: str | None = None


class StaticWorkbenchConfig(BaseModel):
    tools: list[ComponentModel] = Field(default_factory=list)
    tool_overrides: dict[str, ToolOverride] = Field(default_factory=dict)


class StaticWorkbenchState(BaseModel):
    type: Literal["StaticWorkbenchState"] = "StaticWorkbenchState"
    tools: dict[str, Mapping[str, Any]] = Field(default_factory=dict)


def _format_error(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return "\n".join(_format_error(e) for e in error.exceptions)
    return str(error) or type(error).__name__


class StaticWorkbench(Workbench, Component[StaticWorkbenchConfig]):
    """A workbench over a fixed list of tools; start, stop and reset do nothing.

    ``tool_overrides`` maps an original tool name to the name and/or description the model
    sees; calls may use the overriding name.
    """

    component_provider_override = "actorgen_core.tools.StaticWorkbench"
    component_config_schema = StaticWorkbenchConfig

    def __init__(self, tools: list[BaseTool[Any, Any]], tool_overrides: dict[str, ToolOverride] | None = None) -> None:
        self._tools = tools
        self._tool_overrides = tool_overrides or {}
        existing = {tool.name for tool in tools}
        self._override_name_to_original: dict[str, str] = {}
        for original, override in self._tool_overrides.items():
            new_name = override.name
            if new_name is None or new_name == original:
                continue
            if new_name in existing:
                raise ValueError(f"Tool override name {new_name!r} (for {original!r}) is already the name of a tool")
            if new_name in self._override_name_to_original:
                raise ValueError(
                    f"Tool override name {new_name!r} is used for both "
                    f"{self._override_name_to_original[new_name]!r} and {original!r}"
                )
            self._override_name_to_original[new_name] = original

    async def list_tools(self) -> list[ToolSchema]:
        schemas: list[ToolSchema] = []
        for tool in self._tools:
            original = tool.schema
            override = self._tool_overrides.get(tool.name)
            schema = ToolSchema(
                name=override.name if override and override.name else original["name"],
                description=override.description
                if override and override.description is not None
                else original.get("description", ""),
            )
            if "parameters" in original:
                schema["parameters"] = original["parameters"]
            if "strict" in original:
                schema["strict"] = original["strict"]
            schemas.append(schema)
        return schemas

    def _find_tool(self, name: str) -> BaseTool[Any, Any] | None:
        original = self._override_name_to_original.get(name, name)
        return next((tool for tool in self._tools if tool.name == original), None)

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> ToolResult:
        tool = self._find_tool(name)
        if tool is None:
            return ToolResult(name=name, result=[TextResultContent(content=f"Tool {name} not found.")], is_error=True)
        token = cancellation_token or CancellationToken()
        try:
            run = asyncio.ensure_future(tool.run_json(arguments or {}, token, call_id=call_id))
            token.link_future(run)
            value = await run
            return ToolResult(name=name, result=[TextResultContent(content=tool.return_value_as_string(value))])
        except Exception as e:
            return ToolResult(name=name, result=[TextResultContent(content=_format_error(e))], is_error=True)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def reset(self) -> None:
        pass

    async def save_state(self) -> Mapping[str, Any]:
        tools = {tool.name: await tool.save_state_json() for tool in self._tools}
        return StaticWorkbenchState(tools=tools).model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        parsed = StaticWorkbenchState.model_validate(state)
        for tool in self._tools:
            if tool.name in parsed.tools:
                await tool.load_state_json(parsed.tools[tool.name])

    def _to_config(self) -> StaticWorkbenchConfig:
        return StaticWorkbenchConfig(
            tools=[tool.dump_component() for tool in self._tools], tool_overrides=dict(self._tool_overrides)
        )

    @classmethod
    def _from_config(cls, config: StaticWorkbenchConfig) -> Self:
        tools: list[BaseTool[Any, Any]] = [BaseTool.load_component(model) for model in config.tools]
        return cls(tools=tools, tool_overrides=config.tool_overrides)


class _Cancelled(Exception):
    """The token was cancelled while a tool streamed; reported as the stream's error result."""


class StaticStreamWorkbench(StaticWorkbench, StreamWorkbench):
    """A StaticWorkbench that can also stream the intermediate items of stream tools."""

    component_provider_override = "actorgen_core.tools.StaticStreamWorkbench"

    async def call_tool_stream(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> AsyncGenerator[Any | ToolResult, None]:
        """Yield a stream tool's intermediate items, then a ToolResult made from its last item.

        A tool that does not stream yields just its ToolResult. If the tool fails, or the token
        is cancelled, the stream ends with the items so far and an error ToolResult; the
        consumer's loop never sees the exception.
        """
        tool = self._find_tool(name)
        if tool is None:
            yield ToolResult(name=name, result=[TextResultContent(content=f"Tool {name} not found.")], is_error=True)
            return
        if not isinstance(tool, StreamTool):
            yield await self.call_tool(name, arguments, cancellation_token, call_id)
            return
        token = cancellation_token or CancellationToken()
        previous: Any = None
        have_previous = False
        # The stream is iterated in this task (not step by step in new tasks) so that the tool's
        # span context is entered and left in the same context. So a cancellation that arrives
        # while the tool is working interrupts this task, only while it waits on the tool (never
        # while the consumer's loop body runs), and is turned back into an error result.
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        waiting_on_tool = False
        interrupted = False

        def interrupt() -> None:
            nonlocal interrupted
            try:
                on_loop = asyncio.get_running_loop() is loop
            except RuntimeError:
                on_loop = False
            if not on_loop:  # the token was cancelled from another thread: tasks are not thread-safe
                loop.call_soon_threadsafe(interrupt)
                return
            if waiting_on_tool and task is not None and not interrupted:
                interrupted = True
                task.cancel()

        stream = tool.run_json_stream(arguments or {}, token, call_id=call_id)
        token.add_callback(interrupt)
        try:
            while True:
                if token.is_cancelled():
                    raise _Cancelled()
                waiting_on_tool = True
                try:
                    item = await anext(stream)
                except StopAsyncIteration:
                    break
                finally:
                    waiting_on_tool = False
                # Hold each item back one step: the last one becomes the ToolResult.
                if have_previous:
                    yield previous
                previous, have_previous = item, True
        except (Exception, asyncio.CancelledError) as e:
            if isinstance(e, asyncio.CancelledError):
                if not interrupted:
                    raise  # the consumer's task itself is being cancelled
                assert task is not None
                task.uncancel()
            if isinstance(e, _Cancelled | asyncio.CancelledError):
                e = _Cancelled(f"Tool call {name!r} was cancelled")
            if have_previous:
                yield previous
            yield ToolResult(name=name, result=[TextResultContent(content=_format_error(e))], is_error=True)
            return
        finally:
            token._remove_callback(interrupt)
            await stream.aclose()
        content = tool.return_value_as_string(previous) if have_previous else ""
        yield ToolResult(name=name, result=[TextResultContent(content=content)])
