import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from pydantic import BaseModel

from actorgen_core import CancellationToken, Image
from actorgen_core.tools import (
    BaseStreamTool,
    BaseToolWithState,
    FunctionTool,
    ImageResultContent,
    StaticStreamWorkbench,
    StaticWorkbench,
    TextResultContent,
    ToolOverride,
    ToolResult,
    Workbench,
    allow_function_tool_source,
)

PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def add(x: int, y: int) -> int:
    """Add."""
    return x + y


def fail(reason: str) -> str:
    raise ValueError(f"failed: {reason}")


def tools() -> list[Any]:
    return [FunctionTool(add, description="Add two numbers"), FunctionTool(fail, description="Always fails")]


async def test_list_and_call_tools() -> None:
    async with StaticWorkbench(tools()) as workbench:
        assert isinstance(workbench, Workbench)
        schemas = await workbench.list_tools()
        assert [s["name"] for s in schemas] == ["add", "fail"]
        assert schemas[0]["description"] == "Add two numbers"
        assert schemas[0]["parameters"]["required"] == ["x", "y"]
        assert schemas[0]["parameters"]["properties"]["x"]["title"] == "X"

        ok = await workbench.call_tool("add", {"x": 2, "y": 3}, call_id="1")
        assert ok == ToolResult(name="add", result=[TextResultContent(content="5")], is_error=False)

        error = await workbench.call_tool("fail", {"reason": "no"})
        assert error.is_error and error.to_text() == "failed: no"

        invalid = await workbench.call_tool("add", {"x": "two"})
        assert invalid.is_error
        assert "y" in invalid.to_text() and "Field required" in invalid.to_text()

        missing = await workbench.call_tool("add")
        assert missing.is_error

        unknown = await workbench.call_tool("subtract", {"x": 1, "y": 1})
        assert unknown.is_error and unknown.name == "subtract"
        assert unknown.to_text() == "Tool subtract not found."


async def test_call_tool_cancelled_by_token() -> None:
    started = asyncio.Event()

    async def wait_forever() -> str:
        started.set()
        await asyncio.sleep(30)
        return "never"

    workbench = StaticWorkbench([FunctionTool(wait_forever, description="d")])
    token = CancellationToken()
    call = asyncio.ensure_future(workbench.call_tool("wait_forever", {}, token))
    await started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call


async def test_exception_groups_are_flattened() -> None:
    def group() -> str:
        raise ExceptionGroup("several", [ValueError("first"), KeyError("second")])

    result = await StaticWorkbench([FunctionTool(group, description="d")]).call_tool("group")
    assert result.is_error
    assert result.to_text() == "first\n'second'"


async def test_overrides_rename_and_redescribe() -> None:
    workbench = StaticWorkbench(
        tools(),
        tool_overrides={
            "add": ToolOverride(name="plus", description="Sum"),
            "fail": ToolOverride(description="Breaks"),
        },
    )
    schemas = await workbench.list_tools()
    assert [(s["name"], s["description"]) for s in schemas] == [("plus", "Sum"), ("fail", "Breaks")]
    assert schemas[0]["parameters"]["required"] == ["x", "y"]
    result = await workbench.call_tool("plus", {"x": 1, "y": 1})
    assert result.name == "plus" and result.to_text() == "2" and not result.is_error
    assert workbench._override_name_to_original == {"plus": "add"}


def test_override_conflicts_are_rejected() -> None:
    with pytest.raises(ValueError, match="already the name of a tool"):
        StaticWorkbench(tools(), tool_overrides={"add": ToolOverride(name="fail")})
    with pytest.raises(ValueError, match="used for both"):
        StaticWorkbench(tools(), tool_overrides={"add": ToolOverride(name="x"), "fail": ToolOverride(name="x")})
    same = StaticWorkbench(tools(), tool_overrides={"add": ToolOverride(name="add")})
    assert same._override_name_to_original == {}


class Counter(BaseModel):
    count: int = 0


class NoArgs(BaseModel):
    pass


class CountingTool(BaseToolWithState[NoArgs, int, Counter]):
    def __init__(self) -> None:
        super().__init__(NoArgs, int, Counter, "count", "Counts calls")
        self.state = Counter()

    async def run(self, args: NoArgs, cancellation_token: CancellationToken) -> int:
        self.state.count += 1
        return self.state.count

    def save_state(self) -> Counter:
        return self.state

    def load_state(self, state: Counter) -> None:
        self.state = state


async def test_save_and_load_state() -> None:
    tool = CountingTool()
    workbench = StaticWorkbench([tool])
    await workbench.call_tool("count")
    await workbench.call_tool("count")
    state = await workbench.save_state()
    assert state == {"type": "StaticWorkbenchState", "tools": {"count": {"count": 2}}}
    fresh = CountingTool()
    await StaticWorkbench([fresh]).load_state(state)
    assert fresh.state.count == 2
    with pytest.raises(ValueError):
        await StaticWorkbench([fresh]).load_state({"type": "Other", "tools": {}})


async def test_dump_and_load_with_overrides() -> None:
    workbench = StaticWorkbench(tools(), tool_overrides={"add": ToolOverride(name="plus")})
    model = workbench.dump_component()
    assert model.provider == "actorgen_core.tools.StaticWorkbench"
    assert model.component_type == "workbench"
    assert [t["provider"] for t in model.config["tools"]] == ["actorgen_core.tools.FunctionTool"] * 2
    with pytest.raises(ValueError, match="Refusing to load FunctionTool"):
        Workbench.load_component(model)
    with allow_function_tool_source(), pytest.warns(UserWarning, match="executes"):
        loaded = Workbench.load_component(model)
    assert isinstance(loaded, StaticWorkbench)
    assert [s["name"] for s in await loaded.list_tools()] == ["plus", "fail"]
    assert (await loaded.call_tool("plus", {"x": 4, "y": 5})).to_text() == "9"


def test_tool_result_to_text_with_images() -> None:
    image = Image.from_base64(PNG_1X1)
    result = ToolResult(name="t", result=[TextResultContent(content="a"), ImageResultContent(content=image)])
    assert result.to_text() == f"a\n[Image: {PNG_1X1}]"
    assert result.to_text(replace_image="<img>") == "a\n<img>"
    assert ToolResult.model_validate_json(result.model_dump_json()) == result


class Steps(BaseModel):
    n: int


class StepTool(BaseStreamTool[Steps, int, str]):
    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__(Steps, str, "steps", "Counts up, then reports")
        self.fail_at = fail_at

    async def run(self, args: Steps, cancellation_token: CancellationToken) -> str:
        return f"done {args.n}"

    async def run_stream(self, args: Steps, cancellation_token: CancellationToken) -> AsyncGenerator[int | str, None]:
        for i in range(args.n):
            if i == self.fail_at:
                raise RuntimeError(f"broke at {i}")
            await asyncio.sleep(0)
            yield i
        yield f"done {args.n}"


async def collect(stream: AsyncGenerator[Any, None]) -> list[Any]:
    return [item async for item in stream]


async def test_stream_workbench() -> None:
    workbench = StaticStreamWorkbench([StepTool(), FunctionTool(add, description="Add")])
    items = await collect(workbench.call_tool_stream("steps", {"n": 3}))
    assert items[:3] == [0, 1, 2]
    assert items[3] == ToolResult(name="steps", result=[TextResultContent(content="done 3")])

    assert await collect(workbench.call_tool_stream("add", {"x": 1, "y": 2})) == [
        ToolResult(name="add", result=[TextResultContent(content="3")])
    ]
    unknown = await collect(workbench.call_tool_stream("nope"))
    assert len(unknown) == 1 and unknown[0].is_error
    missing_args = await collect(workbench.call_tool_stream("steps", None))
    assert len(missing_args) == 1 and missing_args[0].is_error
    # Non-streaming calls work on the stream workbench too.
    assert (await workbench.call_tool("steps", {"n": 2})).to_text() == "done 2"


async def test_stream_error_midway() -> None:
    workbench = StaticStreamWorkbench([StepTool(fail_at=2)])
    items = await collect(workbench.call_tool_stream("steps", {"n": 5}))
    assert items[:2] == [0, 1]
    assert isinstance(items[2], ToolResult) and items[2].is_error and items[2].to_text() == "broke at 2"
    assert len(items) == 3


async def test_stream_applies_overrides() -> None:
    workbench = StaticStreamWorkbench([StepTool()], tool_overrides={"steps": ToolOverride(name="count_up")})
    items = await collect(workbench.call_tool_stream("count_up", {"n": 1}))
    assert items[-1] == ToolResult(name="count_up", result=[TextResultContent(content="done 1")])


async def test_stream_ends_with_an_error_result_when_cancelled() -> None:
    # As autogen_core: the consumer's loop ends normally, with the items so far and an error
    # result, instead of a CancelledError raised into it (issue 7, item 7).
    token = CancellationToken()
    workbench = StaticStreamWorkbench([StepTool()])
    received: list[Any] = []
    async for item in workbench.call_tool_stream("steps", {"n": 100}, token):
        received.append(item)
        if len(received) == 2:
            token.cancel()
    *items, last = received
    assert items == [0, 1, 2]  # the item held back when the token was cancelled is delivered too
    assert isinstance(last, ToolResult) and last.is_error
    assert last.to_text() == "Tool call 'steps' was cancelled"


class BlockingStepTool(StepTool):
    """Yields one item, then waits until cancelled."""

    waiting: asyncio.Event

    async def run_stream(self, args: Steps, cancellation_token: CancellationToken) -> AsyncGenerator[int | str, None]:
        yield 0
        yield 1
        self.waiting.set()
        await asyncio.sleep(30)
        yield "never"


async def test_cancelling_while_the_tool_waits_interrupts_it() -> None:
    tool = BlockingStepTool()
    tool.waiting = asyncio.Event()
    token = CancellationToken()
    workbench = StaticStreamWorkbench([tool])

    async def cancel_when_waiting() -> None:
        await tool.waiting.wait()
        token.cancel()

    canceller = asyncio.create_task(cancel_when_waiting())
    async with asyncio.timeout(5):
        items = await collect(workbench.call_tool_stream("steps", {"n": 1}, token))
    await canceller
    assert items[:2] == [0, 1]
    assert isinstance(items[2], ToolResult) and items[2].is_error and "cancelled" in items[2].to_text()
    assert len(items) == 3
    # The interruption was taken back: this task is not left with a pending cancellation.
    current = asyncio.current_task()
    assert current is not None and current.cancelling() == 0
    await asyncio.sleep(0)


async def test_cancelling_from_another_thread_interrupts_the_tool() -> None:
    tool = BlockingStepTool()
    tool.waiting = asyncio.Event()
    token = CancellationToken()
    workbench = StaticStreamWorkbench([tool])

    async def cancel_from_a_thread() -> None:
        await tool.waiting.wait()
        await asyncio.to_thread(token.cancel)

    canceller = asyncio.create_task(cancel_from_a_thread())
    async with asyncio.timeout(5):
        items = await collect(workbench.call_tool_stream("steps", {"n": 1}, token))
    await canceller
    assert items[:2] == [0, 1] and items[2].is_error and len(items) == 3


async def test_cancelling_the_consumer_task_still_cancels_it() -> None:
    tool = BlockingStepTool()
    tool.waiting = asyncio.Event()
    workbench = StaticStreamWorkbench([tool])
    consumer = asyncio.create_task(collect(workbench.call_tool_stream("steps", {"n": 1}, CancellationToken())))
    await tool.waiting.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer


async def test_stream_tool_must_end_with_return_type() -> None:
    class Bad(StepTool):
        async def run_stream(
            self, args: Steps, cancellation_token: CancellationToken
        ) -> AsyncGenerator[int | str, None]:
            yield 1

    with pytest.raises(TypeError, match="must end with a str"):
        await collect(Bad().run_json_stream({"n": 1}, CancellationToken()))
