"""A handler is ordinary asyncio code: it runs as its own task, however it was delivered.

Each test runs code that users write inside handlers without thinking about the runtime:
``asyncio.timeout``, ``TaskGroup``, anyio cancel scopes, httpx, context variables.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import anyio
import httpx
import pytest

from actorgen_core import (
    AgentId,
    DefaultTopicId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)


@dataclass
class Job:
    seconds: float = 0.0
    tag: str = ""


@dataclass
class Fan:
    count: int


@dataclass
class Fetch:
    url: str


class Recorder(RoutedAgent):
    """Records the task each handler ran in, and answers after an optional sleep."""

    def __init__(self) -> None:
        super().__init__("records its task")
        self.tasks: list[asyncio.Task[Any] | None] = []

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> str:
        self.tasks.append(asyncio.current_task())
        if message.seconds:
            await asyncio.sleep(message.seconds)
        return message.tag


class TimesOut(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("uses asyncio.timeout")

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> str:
        try:
            async with asyncio.timeout(0.05):
                await asyncio.sleep(1)
        except TimeoutError:
            return "timed out"
        return "not timed out"


async def _started(*agents: tuple[str, type[RoutedAgent]]) -> SingleThreadedAgentRuntime:
    runtime = SingleThreadedAgentRuntime()
    for name, cls in agents:
        await cls.register(runtime, name, cls)
    runtime.start()
    return runtime


# ---------------------------------------------------------------------------- current task


async def test_inline_handler_runs_in_a_task_of_its_own() -> None:
    runtime = await _started(("rec", Recorder))
    assert await runtime.send_message(Job(tag="a"), AgentId("rec", "k")) == "a"
    agent = await runtime.try_get_underlying_agent_instance(AgentId("rec", "k"), Recorder)
    assert agent.tasks[0] is not None
    assert agent.tasks[0] is not asyncio.current_task()
    await runtime.stop_when_idle()


async def test_handler_started_from_the_mailbox_runs_in_a_task_of_its_own() -> None:
    runtime = await _started(("rec", Recorder))
    target = AgentId("rec", "k")
    first = asyncio.create_task(runtime.send_message(Job(0.05, "first"), target))
    await asyncio.sleep(0)
    assert await runtime.send_message(Job(0, "second"), target) == "second"  # waited behind "first"
    assert await first == "first"
    agent = await runtime.try_get_underlying_agent_instance(target, Recorder)
    assert len(agent.tasks) == 2 and None not in agent.tasks
    assert agent.tasks[0] is not agent.tasks[1]
    assert asyncio.current_task() not in agent.tasks and first not in agent.tasks
    await runtime.stop_when_idle()


async def test_event_handler_runs_in_a_task_of_its_own() -> None:
    runtime = await _started(("rec", Recorder))
    await runtime.add_subscription(TypeSubscription("jobs", "rec"))
    await runtime.publish_message(Job(tag="e"), TopicId("jobs", "k"))
    await runtime.stop_when_idle()
    agent = await runtime.try_get_underlying_agent_instance(AgentId("rec", "k"), Recorder)
    assert agent.tasks and agent.tasks[0] is not None and agent.tasks[0] is not asyncio.current_task()


@dataclass
class Bounce:
    depth: int


class Reentrant(RoutedAgent):
    """A asks B, B asks A back (call-chain reentrancy); records the task of each handler."""

    tasks: ClassVar[list[asyncio.Task[Any] | None]] = []

    def __init__(self) -> None:
        super().__init__("reentrant")

    @message_handler
    async def on_bounce(self, message: Bounce, ctx: MessageContext) -> int:
        type(self).tasks.append(asyncio.current_task())
        if message.depth == 0:
            return 0
        other = AgentId("re", "b" if self.id.key == "a" else "a")
        return 1 + await self.send_message(Bounce(message.depth - 1), other)


async def test_reentrant_handler_runs_in_a_task_of_its_own() -> None:
    Reentrant.tasks = []
    runtime = await _started(("re", Reentrant))
    assert await runtime.send_message(Bounce(2), AgentId("re", "a")) == 2  # a -> b -> a
    assert len(Reentrant.tasks) == 3 and None not in Reentrant.tasks
    assert len(set(map(id, Reentrant.tasks))) == 3
    await runtime.stop_when_idle()


# ---------------------------------------------------------------------------- asyncio.timeout


async def test_asyncio_timeout_in_an_inline_handler_times_out_the_handler_not_the_caller() -> None:
    runtime = await _started(("to", TimesOut))
    assert await runtime.send_message(Job(), AgentId("to", "k")) == "timed out"
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
    await runtime.stop_when_idle()


async def test_asyncio_timeout_in_a_handler_started_from_the_mailbox() -> None:
    runtime = await _started(("to", TimesOut))
    target = AgentId("to", "k")
    results = await asyncio.gather(*(runtime.send_message(Job(), target) for _ in range(3)))
    assert results == ["timed out"] * 3
    await runtime.stop_when_idle()


async def test_asyncio_timeout_in_an_event_handler_does_not_cancel_the_publisher() -> None:
    results: list[str] = []

    class EventTimesOut(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("event with a timeout")

        @message_handler
        async def on_job(self, message: Job, ctx: MessageContext) -> None:
            try:
                async with asyncio.timeout(0.02):
                    await asyncio.sleep(1)
            except TimeoutError:
                results.append("timed out")

    runtime = await _started(("ev", EventTimesOut))
    await runtime.add_subscription(TypeSubscription("jobs", "ev"))
    for key in ("a", "b"):
        await runtime.publish_message(Job(), TopicId("jobs", key))
    await asyncio.sleep(0.1)  # the publisher would be cancelled here if the timeout hit it
    await runtime.stop_when_idle()
    assert results == ["timed out", "timed out"]


# ---------------------------------------------------------------------------- TaskGroup


class Orchestrator(RoutedAgent):
    """Fans out with a TaskGroup; several requests go to the same (busy) worker."""

    def __init__(self) -> None:
        super().__init__("fans out")

    @message_handler
    async def on_fan(self, message: Fan, ctx: MessageContext) -> list[str]:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(self.send_message(Job(0.01, f"t{i}"), AgentId("rec", str(i % 2))))
                for i in range(message.count)
            ]
        return [task.result() for task in tasks]


async def test_task_group_fan_out_with_queued_requests() -> None:
    runtime = await _started(("orch", Orchestrator), ("rec", Recorder))
    assert await runtime.send_message(Fan(6), AgentId("orch", "k")) == [f"t{i}" for i in range(6)]
    await runtime.stop_when_idle()


class Failing(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("fails")

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> str:
        await asyncio.sleep(message.seconds)
        raise ValueError(f"bad {message.tag}")


class CatchesGroupErrors(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("catches child errors")

    @message_handler
    async def on_fan(self, message: Fan, ctx: MessageContext) -> str:
        caught: list[str] = []
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.send_message(Job(0.01, "x"), AgentId("fail", "1")))
                group.create_task(asyncio.sleep(5))  # cancelled by the group when the sibling fails
        except* ValueError as errors:
            caught.extend(str(e) for e in errors.exceptions)
        return "caught " + ", ".join(caught) if caught else "no error"


async def test_task_group_reports_child_errors_to_the_handler() -> None:
    runtime = await _started(("catch", CatchesGroupErrors), ("fail", Failing))
    async with asyncio.timeout(2):
        assert await runtime.send_message(Fan(0), AgentId("catch", "k")) == "caught bad x"
    await runtime.stop_when_idle()


# ---------------------------------------------------------------------------- anyio and httpx


class UsesAnyio(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("anyio cancel scopes and task groups")

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> str:
        with anyio.move_on_after(0.02) as scope:
            await anyio.sleep(1)
        seen: list[int] = []

        async def child(n: int) -> None:
            await anyio.sleep(0.001 * n)
            seen.append(n)

        async with anyio.create_task_group() as group:
            for n in range(3):
                group.start_soon(child, n)
        return f"cancelled={scope.cancelled_caught} children={sorted(seen)}"


async def test_anyio_cancel_scope_and_task_group_in_handlers() -> None:
    runtime = await _started(("any", UsesAnyio))
    target = AgentId("any", "k")
    results = await asyncio.gather(*(runtime.send_message(Job(), target) for _ in range(2)))  # inline + mailbox
    assert results == ["cancelled=True children=[0, 1, 2]"] * 2
    await runtime.stop_when_idle()


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Fetcher(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("calls an HTTP service with httpx")

    @message_handler
    async def on_fetch(self, message: Fetch, ctx: MessageContext) -> str:
        async with asyncio.timeout(5), httpx.AsyncClient() as client:
            response = await client.get(message.url)
            return response.text


async def test_httpx_in_handlers(http_server: str) -> None:
    runtime = await _started(("fetch", Fetcher))
    target = AgentId("fetch", "k")
    urls = [f"{http_server}/{i}" for i in range(3)]
    results = await asyncio.gather(*(runtime.send_message(Fetch(u), target) for u in urls))
    assert results == [f"hello /{i}" for i in range(3)]
    await runtime.stop_when_idle()


# ---------------------------------------------------------------------------- context variables

request_user: contextvars.ContextVar[str] = contextvars.ContextVar("request_user", default="nobody")


class SetsContext(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("sets a context variable")

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> str:
        seen = request_user.get()
        request_user.set(f"changed by handler {message.tag}")
        if message.seconds:
            await asyncio.sleep(message.seconds)
        return seen


async def test_handler_sees_the_senders_context_and_its_changes_do_not_leak_back() -> None:
    runtime = await _started(("ctx", SetsContext))
    request_user.set("alice")
    assert await runtime.send_message(Job(tag="1"), AgentId("ctx", "k")) == "alice"
    assert request_user.get() == "alice"
    assert await runtime.send_message(Job(0.01, "2"), AgentId("ctx", "k")) == "alice"
    assert request_user.get() == "alice"
    await runtime.publish_message(Job(tag="3"), DefaultTopicId())
    assert request_user.get() == "alice"
    await runtime.stop_when_idle()


async def test_a_handler_that_finished_at_once_leaves_a_finished_task_behind() -> None:
    # As with Python 3.12's eager tasks: the task of a handler that never waited is done
    # (with the handler's result) by the time the caller has the reply; nothing is left
    # scheduled on the loop.
    runtime = await _started(("rec", Recorder))
    assert await runtime.send_message(Job(tag="now"), AgentId("rec", "k")) == "now"
    agent = await runtime.try_get_underlying_agent_instance(AgentId("rec", "k"), Recorder)
    task = agent.tasks[0]
    assert task is not None and task.done() and task.result() == "now"
    await runtime.stop_when_idle()


class Introspects(RoutedAgent):
    """Looks at its own task the way debugging and tracing tools do."""

    def __init__(self) -> None:
        super().__init__("looks at its task")

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> str:
        task = asyncio.current_task()
        assert task is not None
        coro = task.get_coro()
        if message.seconds:
            await asyncio.sleep(message.seconds)
        # The task runs the handler's own (native) coroutine, on 3.11 as on 3.12: nothing
        # wraps it, and it is the one suspended in this very frame.
        return f"{type(coro).__name__} {coro.cr_code.co_name} {task in asyncio.all_tasks()}"


async def test_a_handlers_task_runs_the_handlers_own_coroutine() -> None:
    runtime = await _started(("intro", Introspects))
    at_once = await runtime.send_message(Job(tag="now"), AgentId("intro", "k"))
    after_waiting = await runtime.send_message(Job(0.01), AgentId("intro", "k"))
    assert at_once == after_waiting == "coroutine on_message_impl True"
    await runtime.stop_when_idle()


class FailsAtOnce(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("raises in its first step")

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> str:
        if message.tag == "cancel":
            raise asyncio.CancelledError()
        raise LookupError(f"no {message.tag}")


async def test_a_handler_that_raised_at_once_leaves_nothing_unretrieved(caplog: pytest.LogCaptureFixture) -> None:
    # The handler's task ends with its error; the caller gets that error, and asyncio has
    # nothing to complain about when the task is freed ("exception was never retrieved").
    import gc

    runtime = await _started(("fails", FailsAtOnce))
    await runtime.add_subscription(TypeSubscription("jobs", "fails"))
    with pytest.raises(LookupError, match="no key"):
        await runtime.send_message(Job(tag="key"), AgentId("fails", "k"))
    with pytest.raises(asyncio.CancelledError):
        await runtime.send_message(Job(tag="cancel"), AgentId("fails", "k"))
    await runtime.publish_message(Job(tag="event"), TopicId("jobs", "k"))
    await runtime.stop_when_idle()
    assert [r for r in caplog.records if "raised while handling a published Job" in r.getMessage()]
    gc.collect()
    await asyncio.sleep(0)
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


async def test_handlers_are_tasks_of_the_loops_task_factory_when_one_is_set() -> None:
    loop = asyncio.get_running_loop()
    made: list[asyncio.Task[Any]] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, **kwargs)
        made.append(task)
        return task

    loop.set_task_factory(factory)
    try:
        runtime = await _started(("to", TimesOut), ("rec", Recorder))
        assert await runtime.send_message(Job(), AgentId("to", "k")) == "timed out"
        assert await runtime.send_message(Job(tag="x"), AgentId("rec", "k")) == "x"
        agent = await runtime.try_get_underlying_agent_instance(AgentId("rec", "k"), Recorder)
        assert agent.tasks[0] in made
        await runtime.stop_when_idle()
    finally:
        loop.set_task_factory(None)


def test_handlers_run_on_a_loop_subclass_in_debug_mode() -> None:
    # The 3.11 eager start holds a new task's first step back from loop.call_soon; a loop
    # that overrides call_soon (and asyncio's debug checks) must still see every callback
    # it is asked to schedule, and handlers must behave as tasks there too.
    scheduled: list[str] = []

    class CountingLoop(asyncio.SelectorEventLoop):
        def call_soon(self, callback: Any, *args: Any, context: Any = None) -> asyncio.Handle:
            scheduled.append(type(callback).__name__)
            return super().call_soon(callback, *args, context=context)

    async def main() -> None:
        runtime = await _started(("to", TimesOut), ("rec", Recorder))
        assert await runtime.send_message(Job(), AgentId("to", "k")) == "timed out"
        assert await runtime.send_message(Job(0.01, "slept"), AgentId("rec", "k")) == "slept"
        assert await runtime.send_message(Job(tag="now"), AgentId("rec", "k")) == "now"
        await runtime.stop_when_idle()

    loop = CountingLoop()
    loop.set_debug(True)
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    # The override saw the task callbacks (the held first step of the handler that slept on
    # 3.11, its wake-up on 3.12): nothing bypassed it once the catcher was gone.
    assert any(name.startswith("Task") for name in scheduled), scheduled


async def test_the_step_catcher_forwards_everything_but_a_new_tasks_first_step() -> None:
    from actorgen_core.application import _eager

    if sys.version_info >= (3, 12):  # asyncio's own eager tasks: nothing is shadowed
        assert _eager.EAGER_TASKS_BUILT_IN and not hasattr(_eager, "_catcher")
        return
    loop = asyncio.get_running_loop()
    catcher = _eager._catcher(loop)
    assert catcher is not None
    hold, held = catcher
    ran: list[str] = []
    handle = hold(lambda: ran.append("plain callback"))  # not a task's step: scheduled as asked
    assert isinstance(handle, asyncio.Handle) and held == [None, None]
    hold(lambda tag: ran.append(tag), "with args")
    await asyncio.sleep(0)
    assert ran == ["plain callback", "with args"]

    # A task's first step is held back, once; a second one (a task built by a finalizer
    # while the first is being built, say) is scheduled as asked.
    async def step(tag: str) -> None:
        ran.append(tag)

    first = asyncio.Task(step("held"), loop=loop)  # schedules its step through the real call_soon
    loop.__dict__["call_soon"] = hold
    try:
        second = asyncio.Task(step("second"), loop=loop)
        third = asyncio.Task(step("third"), loop=loop)
    finally:
        del loop.__dict__["call_soon"]
    assert held[0].__self__ is second and held[1] is not None
    await asyncio.sleep(0)
    assert ran[2:] == ["held", "third"] and not second.done()
    loop.call_soon(held[0])
    held[0] = None
    await asyncio.gather(first, second, third)
    assert ran[2:] == ["held", "third", "second"]
    # Between deliveries nothing shadows the loop's own call_soon.
    assert "call_soon" not in loop.__dict__


async def test_a_task_built_while_a_handlers_task_is_built_starts_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # A finalizer run by the garbage collector while the handler's task is being built
    # could build a task of its own. Its first step is the one held back then: it must be
    # scheduled in its own context, and the handler's task (whose step went to the loop)
    # must still run, in its own.
    from actorgen_core.application import _eager

    if sys.version_info >= (3, 12):
        return
    loop = asyncio.get_running_loop()
    seen = contextvars.ContextVar("seen", default="unset")
    others: list[asyncio.Task[str]] = []
    real_task = _eager._Task

    async def other() -> str:
        return f"other saw {seen.get()}"

    def built_with_another_task_first(coro: Any, *, loop: Any, context: Any) -> asyncio.Task[Any]:
        finalizer_context = contextvars.copy_context()
        finalizer_context.run(seen.set, "finalizer")
        others.append(real_task(other(), loop=loop, context=finalizer_context))
        return real_task(coro, loop=loop, context=context)

    async def handler() -> str:
        await asyncio.sleep(0)
        return f"handler saw {seen.get()}"

    async def nothing() -> None:
        return None

    assert _eager.start_task(loop, nothing(), contextvars.copy_context(), None) == (None, None)  # loop set up
    monkeypatch.setattr(_eager, "_Task", built_with_another_task_first)
    context = contextvars.copy_context()
    context.run(seen.set, "handler")
    task, result = _eager.start_task(loop, handler(), context, None)
    monkeypatch.undo()
    assert task is not None and result is None
    assert await task == "handler saw handler"
    assert await others[0] == "other saw finalizer"
    assert "call_soon" not in loop.__dict__


async def test_no_catcher_where_something_else_could_run_while_a_task_is_built() -> None:
    from actorgen_core.application import _eager

    if sys.version_info >= (3, 12):
        return

    class OwnDebug(asyncio.SelectorEventLoop):
        def get_debug(self) -> bool:  # user code that would run inside Task()
            return False

    loop = OwnDebug()
    try:
        assert _eager._catcher(loop) is None
        assert _eager._catcher(asyncio.get_running_loop()) is not None
    finally:
        loop.close()


class InspectsItsDelivery(RoutedAgent):
    """Reads every field of what the runtime built for this delivery."""

    def __init__(self) -> None:
        super().__init__("reads its context and call frame")
        self.seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> None:
        import dataclasses

        from actorgen_core.base._contexts import CURRENT_FRAME, CallFrame

        frame = CURRENT_FRAME.get()
        self.seen.append(
            (
                {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)} | {"type": type(ctx)},  # unset: raises
                {name: getattr(frame, name) for name in CallFrame.__slots__} | {"type": type(frame)},
            )
        )


async def test_a_published_message_gets_a_complete_context_and_call_frame() -> None:
    from actorgen_core.base._contexts import CallFrame

    # The fan-out builds these field by field (no __init__ call): each must be whole and
    # carry what was published.
    runtime = await _started(("inspect", InspectsItsDelivery))
    await runtime.add_subscription(TypeSubscription("jobs", "inspect"))
    sender = AgentId("someone", "else")
    await runtime.publish_message(Job(tag="x"), TopicId("jobs", "k"), sender=sender, message_id="m-1")
    await runtime.stop_when_idle()
    agent = await runtime.try_get_underlying_agent_instance(AgentId("inspect", "k"), InspectsItsDelivery)
    (ctx, frame) = agent.seen[0]
    token = ctx.pop("cancellation_token")
    assert ctx == {
        "sender": sender,
        "topic_id": TopicId("jobs", "k"),
        "is_rpc": False,
        "message_id": "m-1",
        "type": MessageContext,
    }
    assert token is not None and not token.is_cancelled()
    assert frame == {
        "agent_id": AgentId("inspect", "k"),
        "deadline": None,
        "parent": None,
        "active": True,  # while the handler runs
        "type": CallFrame,
    }
