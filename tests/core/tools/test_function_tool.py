import asyncio
import functools
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field, ValidationError

from actorgen_core import EVENT_LOGGER_NAME, CancellationToken
from actorgen_core.logging import ToolCallEvent
from actorgen_core.tools import BaseTool, FunctionTool, Tool


class Address(BaseModel):
    street: str
    zip_code: Annotated[str, Field(pattern=r"^\d{5}$")]


class Person(BaseModel):
    name: str
    address: Address


def plain(a: int, b: str) -> str:
    return f"{a}{b}"


def with_defaults(a: int, b: str = "x", c: float = 1.5) -> str:
    return f"{a}{b}{c}"


def with_optional(a: Optional[int], b: int | None = None) -> str:  # noqa: UP045 - testing both spellings
    return f"{a}{b}"


def with_literal(mode: Literal["fast", "slow"]) -> str:
    return mode


def with_list(values: list[int], tags: list[str] | None = None) -> int:
    return sum(values)


def with_model(person: Person) -> str:
    return person.address.street


def with_annotated(query: Annotated[str, "what to look for"], limit: Annotated[int, "max results"] = 3) -> str:
    return query * limit


def with_token(x: int, cancellation_token: CancellationToken) -> int:
    return x


SCHEMA_CASES: list[tuple[Any, dict[str, Any], list[str]]] = [
    (plain, {"a": {"type": "integer"}, "b": {"type": "string"}}, ["a", "b"]),
    (
        with_defaults,
        {"a": {"type": "integer"}, "b": {"type": "string", "default": "x"}, "c": {"type": "number", "default": 1.5}},
        ["a"],
    ),
    (
        with_optional,
        {
            "a": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "b": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
        },
        ["a"],
    ),
    (with_literal, {"mode": {"enum": ["fast", "slow"], "type": "string"}}, ["mode"]),
    (
        with_list,
        {
            "values": {"type": "array", "items": {"type": "integer"}},
            "tags": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}], "default": None},
        },
        ["values"],
    ),
    (
        with_annotated,
        {
            "query": {"type": "string", "description": "what to look for"},
            "limit": {"type": "integer", "default": 3, "description": "max results"},
        },
        ["query"],
    ),
    (with_token, {"x": {"type": "integer"}}, ["x"]),
]


@pytest.mark.parametrize(("func", "expected_properties", "required"), SCHEMA_CASES)
def test_schema_from_signature(func: Any, expected_properties: dict[str, Any], required: list[str]) -> None:
    tool = FunctionTool(func, description="a tool")
    schema = tool.schema
    assert schema["name"] == func.__name__
    assert schema["description"] == "a tool"
    parameters = schema["parameters"]
    assert parameters["type"] == "object"
    assert parameters["required"] == required
    assert parameters["additionalProperties"] is False
    assert set(parameters["properties"]) == set(expected_properties)
    for name, expected in expected_properties.items():
        actual = parameters["properties"][name]
        for key, value in expected.items():
            assert actual[key] == value, (name, key)
        # Without Annotated, the description is the parameter name.
        assert actual["description"] == expected.get("description", name)


def test_nested_model_is_inlined() -> None:
    schema = FunctionTool(with_model, description="d").schema
    parameters = schema["parameters"]
    assert "$defs" not in json.dumps(schema)
    person = parameters["properties"]["person"]
    assert person["title"] == "Person"
    assert person["required"] == ["name", "address"]
    address = person["properties"]["address"]
    assert address["properties"]["zip_code"]["pattern"] == r"^\d{5}$"
    assert address["required"] == ["street", "zip_code"]


class Tree(BaseModel):
    label: str
    children: list["Tree"] = []


def with_recursive(tree: Tree) -> str:
    return tree.label


def test_recursive_model_keeps_its_definition() -> None:
    parameters = FunctionTool(with_recursive, description="d").schema["parameters"]
    assert parameters["properties"]["tree"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}
    assert "Tree" in parameters["$defs"]  # type: ignore[typeddict-item]


def test_strict_requires_every_parameter() -> None:
    assert FunctionTool(plain, description="d", strict=True).schema["strict"] is True
    with pytest.raises(ValueError, match="strict"):
        _ = FunctionTool(with_defaults, description="d", strict=True).schema


def test_name_and_types() -> None:
    tool = FunctionTool(with_model, description="d", name="lookup")
    assert tool.name == "lookup"
    assert isinstance(tool, Tool) and isinstance(tool, BaseTool)
    assert tool.return_type() is str
    assert tool.state_type() is None
    assert list(tool.args_type().model_fields) == ["person"]

    def returns_annotated() -> Annotated[int, "count"]:
        return 1

    def returns_none() -> None:
        return None

    assert FunctionTool(returns_annotated, description="d").return_type() is int
    assert FunctionTool(returns_none, description="d").return_type() is type(None)
    assert FunctionTool(returns_none, description="d").schema["parameters"]["properties"] == {}


def test_partial_drops_bound_arguments_and_keeps_name() -> None:
    bound_positional = functools.partial(with_defaults, 5)
    tool = FunctionTool(bound_positional, description="d")
    assert tool.name == "with_defaults"
    assert set(tool.schema["parameters"]["properties"]) == {"b", "c"}
    bound_keyword = functools.partial(with_defaults, b="y")
    properties = FunctionTool(bound_keyword, description="d").schema["parameters"]["properties"]
    assert properties["b"]["default"] == "y"


async def test_partial_runs_with_bound_values() -> None:
    tool = FunctionTool(functools.partial(with_defaults, 5, c=2.0), description="d")
    assert await tool.run_json({"b": "z"}, CancellationToken()) == "5z2.0"


async def test_arguments_are_validated_with_clear_errors() -> None:
    tool = FunctionTool(with_model, description="d")
    with pytest.raises(ValidationError) as info:
        await tool.run_json({"person": {"name": "Ann", "address": {"street": "Main"}}}, CancellationToken())
    assert "zip_code" in str(info.value) and "Field required" in str(info.value)
    with pytest.raises(ValidationError, match="Input should be 'fast' or 'slow'"):
        await FunctionTool(with_literal, description="d").run_json({"mode": "medium"}, CancellationToken())
    with pytest.raises(ValidationError, match="valid integer"):
        await FunctionTool(plain, description="d").run_json({"a": "three", "b": "x"}, CancellationToken())


async def test_model_argument_is_passed_as_model() -> None:
    received: list[Any] = []

    def take(person: Person) -> str:
        received.append(person)
        return person.name

    args = {"person": {"name": "Ann", "address": {"street": "Main", "zip_code": "12345"}}}
    assert await FunctionTool(take, description="d").run_json(args, CancellationToken()) == "Ann"
    assert isinstance(received[0], Person)


async def test_sync_function_runs_in_a_thread() -> None:
    threads: list[int] = []

    def where() -> int:
        threads.append(threading.get_ident())
        return 1

    assert await FunctionTool(where, description="d").run_json({}, CancellationToken()) == 1
    assert threads and threads[0] != threading.get_ident()


async def test_async_function_is_awaited_with_token() -> None:
    seen: list[CancellationToken] = []

    async def add(a: int, b: int, cancellation_token: CancellationToken) -> int:
        seen.append(cancellation_token)
        await asyncio.sleep(0)
        return a + b

    token = CancellationToken()
    tool = FunctionTool(add, description="d")
    assert "cancellation_token" not in tool.schema["parameters"]["properties"]
    assert await tool.run_json({"a": 1, "b": 2}, token) == 3
    assert seen == [token]


async def test_cancelling_the_token_cancels_an_async_tool() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow() -> str:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "late"

    token = CancellationToken()
    run = asyncio.ensure_future(FunctionTool(slow, description="d").run_json({}, token))
    await started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert cancelled.is_set()


async def test_cancelling_the_token_abandons_a_sync_tool() -> None:
    release = threading.Event()

    def blocking() -> str:
        release.wait(5)
        return "late"

    token = CancellationToken()
    run = asyncio.ensure_future(FunctionTool(blocking, description="d").run_json({}, token))
    await asyncio.sleep(0.05)
    token.cancel()
    try:
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(run, 2)
    finally:
        release.set()


async def test_already_cancelled_token() -> None:
    async def fast() -> str:
        return "ran"

    token = CancellationToken()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await FunctionTool(fast, description="d").run_json({}, token)


def test_return_value_as_string() -> None:
    tool = FunctionTool(plain, description="d")

    class Result(BaseModel):
        result: str

    assert tool.return_value_as_string(5) == "5"
    assert tool.return_value_as_string([1, 2]) == "[1, 2]"
    assert tool.return_value_as_string(Result(result="test")) == '{"result": "test"}'


async def test_tool_call_event_logged_only_when_enabled(caplog: pytest.LogCaptureFixture) -> None:
    tool = FunctionTool(plain, description="d")
    logger = logging.getLogger(EVENT_LOGGER_NAME)
    with caplog.at_level(logging.WARNING, logger=EVENT_LOGGER_NAME):
        await tool.run_json({"a": 1, "b": "x"}, CancellationToken())
    assert not [r for r in caplog.records if r.name == EVENT_LOGGER_NAME]
    with caplog.at_level(logging.INFO, logger=EVENT_LOGGER_NAME):
        assert logger.isEnabledFor(logging.INFO)
        await tool.run_json({"a": 1, "b": "x"}, CancellationToken())
    events = [r.msg for r in caplog.records if r.name == EVENT_LOGGER_NAME]
    assert len(events) == 1 and isinstance(events[0], ToolCallEvent)
    payload = json.loads(str(events[0]))
    assert payload["type"] == "ToolCall"
    assert payload["tool_name"] == "plain"
    assert payload["arguments"] == {"a": 1, "b": "x"}
    assert payload["result"] == "1x"


async def test_run_json_is_wrapped_in_a_tool_span(monkeypatch: pytest.MonkeyPatch) -> None:
    from actorgen_core.tools import _base as base

    spans: list[dict[str, Any]] = []

    @contextmanager
    def recording_span(**kwargs: Any) -> Iterator[None]:
        spans.append(kwargs)
        yield

    monkeypatch.setattr(base, "trace_tool_span", recording_span)
    await FunctionTool(plain, description="joins").run_json({"a": 1, "b": "x"}, CancellationToken(), call_id="c1")
    assert spans == [{"tool_name": "plain", "tool_description": "joins", "tool_call_id": "c1"}]


async def test_positional_only_parameters() -> None:
    def pos(a: int, /, b: int) -> int:
        return a - b

    assert await FunctionTool(pos, description="d").run_json({"a": 5, "b": 2}, CancellationToken()) == 3


async def test_parameter_annotated_as_token_receives_it() -> None:
    seen: list[CancellationToken] = []

    def use(n: int, token: CancellationToken) -> int:
        seen.append(token)
        return n

    tool = FunctionTool(use, description="d")
    assert list(tool.schema["parameters"]["properties"]) == ["n"]
    token = CancellationToken()
    assert await tool.run_json({"n": 4}, token) == 4
    assert seen == [token]
    assert tool.dump_component().config["has_cancellation_support"] is True
