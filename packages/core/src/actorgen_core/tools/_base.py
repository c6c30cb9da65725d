"""The tool protocol, the JSON schema a model sees, and base classes for tools with typed arguments."""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Generic, NotRequired, Protocol, TypeVar, cast, runtime_checkable

from pydantic import BaseModel
from typing_extensions import TypedDict

from ..base import CancellationToken, trace_tool_span
from ..base._component_config import ComponentBase
from ..base._constants import EVENT_LOGGER_NAME
from ..base._events import ToolCallEvent

__all__ = [
    "ParametersSchema",
    "ToolSchema",
    "Tool",
    "StreamTool",
    "BaseTool",
    "BaseToolWithState",
    "BaseStreamTool",
    "inline_json_schema_refs",
]

event_logger = logging.getLogger(EVENT_LOGGER_NAME)


class ParametersSchema(TypedDict):
    type: str
    properties: dict[str, Any]
    required: NotRequired[Sequence[str]]
    additionalProperties: NotRequired[bool]


class ToolSchema(TypedDict):
    """What a model is told about a tool: its name, description and JSON-schema parameters."""

    parameters: NotRequired[ParametersSchema]
    name: str
    description: NotRequired[str]
    strict: NotRequired[bool]


@runtime_checkable
class Tool(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def schema(self) -> ToolSchema: ...

    def args_type(self) -> type[BaseModel]: ...

    def return_type(self) -> type[Any]: ...

    def state_type(self) -> type[BaseModel] | None: ...

    def return_value_as_string(self, value: Any) -> str: ...

    async def run_json(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> Any: ...

    async def save_state_json(self) -> Mapping[str, Any]: ...

    async def load_state_json(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class StreamTool(Tool, Protocol):
    def run_json_stream(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> AsyncGenerator[Any, None]: ...


ArgsT = TypeVar("ArgsT", bound=BaseModel, contravariant=True)
ReturnT = TypeVar("ReturnT", bound=Any, covariant=True)
StateT = TypeVar("StateT", bound=BaseModel)
StreamT = TypeVar("StreamT", bound=Any, covariant=True)


def inline_json_schema_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace local ``#/$defs/<name>`` references by the definitions they point to.

    Models handle flat schemas better than references. A self-referencing (recursive)
    definition cannot be inlined: its references stay, and so does the ``$defs`` entry.
    """
    definitions: dict[str, Any] = schema.get("$defs", {})
    kept: dict[str, Any] = {}

    def resolve(node: Any, active: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [resolve(item, active) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref[len("#/$defs/") :]
            if name in definitions and name not in active:
                siblings = {k: resolve(v, active) for k, v in node.items() if k != "$ref"}
                resolved = resolve(definitions[name], (*active, name))
                return {**resolved, **siblings}
            if name in definitions:
                kept[name] = None
        return {k: resolve(v, active) for k, v in node.items() if k != "$defs"}

    result = cast(dict[str, Any], resolve(schema, ()))
    if kept:
        # Recursive definitions: keep each, itself resolved as far as possible.
        result["$defs"] = {name: resolve(definitions[name], (name,)) for name in definitions if name in kept}
    return result


class BaseTool(ABC, Tool, Generic[ArgsT, ReturnT], ComponentBase[BaseModel]):
    """A tool whose arguments are a pydantic model: the schema is derived from it and
    :meth:`run_json` validates raw arguments against it before calling :meth:`run`."""

    component_type = "tool"

    def __init__(
        self,
        args_type: type[ArgsT],
        return_type: type[ReturnT],
        name: str,
        description: str,
        strict: bool = False,
    ) -> None:
        self._args_type = args_type
        self._return_type = return_type
        self._name = name
        self._description = description
        self._strict = strict

    @property
    def schema(self) -> ToolSchema:
        model_schema = inline_json_schema_refs(self._args_type.model_json_schema())
        properties: dict[str, Any] = model_schema.get("properties", {})
        required: list[str] = list(model_schema.get("required", []))
        additional = bool(model_schema.get("additionalProperties", False))
        if self._strict:
            if set(required) != set(properties):
                optional = sorted(set(properties) - set(required))
                raise ValueError(
                    f"Tool {self._name!r} is strict, so every parameter must be required; "
                    f"these have defaults: {', '.join(optional)}"
                )
            if additional:
                raise ValueError(f"Tool {self._name!r} is strict, so it cannot accept additional properties")
        parameters = ParametersSchema(
            type="object", properties=properties, required=required, additionalProperties=additional
        )
        if "$defs" in model_schema:
            parameters["$defs"] = model_schema["$defs"]  # type: ignore[typeddict-unknown-key]
        return ToolSchema(name=self._name, description=self._description, parameters=parameters, strict=self._strict)

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    def args_type(self) -> type[BaseModel]:
        return self._args_type

    def return_type(self) -> type[Any]:
        return self._return_type

    def state_type(self) -> type[BaseModel] | None:
        return None

    def return_value_as_string(self, value: Any) -> str:
        if isinstance(value, BaseModel):
            dumped = value.model_dump()
            if isinstance(dumped, dict):
                return json.dumps(dumped)
            return str(dumped)
        return str(value)

    @abstractmethod
    async def run(self, args: ArgsT, cancellation_token: CancellationToken) -> ReturnT:
        """Run the tool on validated arguments."""

    async def run_json(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> Any:
        """Validate ``args`` against :meth:`args_type` (pydantic ValidationError if they do not fit) and run."""
        with trace_tool_span(tool_name=self._name, tool_description=self._description, tool_call_id=call_id):
            return_value = await self.run(self._args_type.model_validate(args), cancellation_token)
            _log_tool_call(self, args, return_value)
        return return_value

    async def save_state_json(self) -> Mapping[str, Any]:
        return {}

    async def load_state_json(self, state: Mapping[str, Any]) -> None:
        pass


def _log_tool_call(tool: BaseTool[Any, Any], args: Mapping[str, Any], return_value: Any) -> None:
    # Rendering the result costs something: only when someone listens.
    if event_logger.isEnabledFor(logging.INFO):
        event_logger.info(
            ToolCallEvent(tool_name=tool.name, arguments=dict(args), result=tool.return_value_as_string(return_value))
        )


class BaseToolWithState(BaseTool[ArgsT, ReturnT], ABC, Generic[ArgsT, ReturnT, StateT]):
    """A tool with state that is saved and loaded as the pydantic model ``state_type``."""

    def __init__(
        self,
        args_type: type[ArgsT],
        return_type: type[ReturnT],
        state_type: type[StateT],
        name: str,
        description: str,
    ) -> None:
        super().__init__(args_type, return_type, name, description)
        self._state_type = state_type

    def state_type(self) -> type[BaseModel] | None:
        return self._state_type

    @abstractmethod
    def save_state(self) -> StateT: ...

    @abstractmethod
    def load_state(self, state: StateT) -> None: ...

    async def save_state_json(self) -> Mapping[str, Any]:
        return self.save_state().model_dump()

    async def load_state_json(self, state: Mapping[str, Any]) -> None:
        self.load_state(self._state_type.model_validate(state))


class BaseStreamTool(BaseTool[ArgsT, ReturnT], StreamTool, ABC, Generic[ArgsT, StreamT, ReturnT]):
    """A tool that yields intermediate items; the last item is its result (of ``return_type``)."""

    @abstractmethod
    def run_stream(self, args: ArgsT, cancellation_token: CancellationToken) -> AsyncGenerator[StreamT | ReturnT, None]:
        """Yield intermediate items, then the result as the last item."""

    async def run_json_stream(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> AsyncGenerator[Any, None]:
        """Validate ``args``, then yield every item of :meth:`run_stream`."""
        last: Any = None
        produced = False
        with trace_tool_span(tool_name=self._name, tool_description=self._description, tool_call_id=call_id):
            async for item in self.run_stream(self._args_type.model_validate(args), cancellation_token):
                last, produced = item, True
                yield item
        if not produced:
            raise RuntimeError(f"Stream tool {self._name!r} yielded nothing; its last item must be the result")
        return_type: Any = self._return_type
        if isinstance(return_type, type) and not isinstance(last, return_type):
            raise TypeError(
                f"Stream tool {self._name!r} must end with a {return_type.__name__}, got {type(last).__name__}"
            )
        _log_tool_call(self, args, last)
