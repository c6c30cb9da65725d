"""How the synchronous API runs the one async implementation, and which runtime a chat uses.

Every chat runs as asyncio code on some event loop. The ``a_`` methods run on the caller's
loop. The synchronous methods need a loop they can block on without blocking it, so they
submit the work to a private loop that lives in a daemon thread ("the chat thread"); this
works the same from a script, from a worker thread and from inside a running loop (Jupyter).

User code that is synchronous (reply functions, hooks, ``get_human_input``, summary
callables) runs in a worker thread, so that it may itself call the synchronous API (a sync
reply function that starts a nested chat): the nested work is then submitted back to the loop
the outer chat runs on, with the caller's context, so the runtime sees the call chain and lets
re-entrant requests in.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from actorgen_core import AgentRuntime, SingleThreadedAgentRuntime

T = TypeVar("T")

# The loop the current chat runs on, seen by user code running in worker threads.
_CHAT_LOOP: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "actorgen_agentchat_chat_loop", default=None
)

# Sync user callbacks may nest chats, each holding a thread while it waits: a generous pool.
_USER_CODE_THREADS = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="agentchat-user")

_lock = threading.Lock()
_chat_thread_loop: asyncio.AbstractEventLoop | None = None

# The runtime each loop uses when an agent was given none, and the loop on which this package
# started a runtime it was given (a runtime delivers on the loop it was started on).
_implicit_runtimes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SingleThreadedAgentRuntime] = (
    weakref.WeakKeyDictionary()
)
_started_on: weakref.WeakKeyDictionary[AgentRuntime, asyncio.AbstractEventLoop] = weakref.WeakKeyDictionary()


def _chat_thread() -> asyncio.AbstractEventLoop:
    global _chat_thread_loop
    with _lock:
        if _chat_thread_loop is None or _chat_thread_loop.is_closed():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            threading.Thread(target=run, name="agentchat-loop", daemon=True).start()
            ready.wait()
            _chat_thread_loop = loop
        return _chat_thread_loop


def _submit(
    loop: asyncio.AbstractEventLoop, make: Callable[[], Coroutine[Any, Any, T]]
) -> concurrent.futures.Future[T]:
    """Start ``make()`` as a task on ``loop`` in a copy of the caller's context."""
    context = contextvars.copy_context()
    result: concurrent.futures.Future[T] = concurrent.futures.Future()

    def copy_outcome(task: asyncio.Task[T]) -> None:
        if task.cancelled():
            result.cancel()
        elif (error := task.exception()) is not None:
            result.set_exception(error)
        else:
            result.set_result(task.result())

    def start() -> None:
        try:
            task = loop.create_task(make(), context=context)
        except BaseException as error:
            result.set_exception(error)
            return
        task.add_done_callback(copy_outcome)

    loop.call_soon_threadsafe(start)
    return result


def run_sync(make: Callable[[], Coroutine[Any, Any, T]], runtime: AgentRuntime | None = None) -> T:
    """Run the coroutine ``make()`` to completion from synchronous code and return its result."""
    loop = _CHAT_LOOP.get()
    if runtime is not None and runtime in _started_on:
        loop = _started_on[runtime]
    if loop is None or loop.is_closed():
        loop = _chat_thread()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        raise RuntimeError(
            "A synchronous actorgen_agentchat method was called on the event loop that runs the chat, "
            "which would block it forever: use the a_ variant (e.g. await a_initiate_chat(...)) here."
        )
    return _submit(loop, make).result()


async def on_loop_of(runtime: AgentRuntime | None, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Await ``make()`` on the loop that runs ``runtime`` (the current loop when that is not known)."""
    loop = _started_on.get(runtime) if runtime is not None else None
    if loop is None or loop is asyncio.get_running_loop() or loop.is_closed():
        return await make()
    return await asyncio.wrap_future(_submit(loop, make))


async def runtime_for(explicit: AgentRuntime | None) -> AgentRuntime:
    """The runtime a chat uses: the one given, started here if needed, else this loop's implicit one."""
    loop = asyncio.get_running_loop()
    if explicit is None:
        runtime = _implicit_runtimes.get(loop)
        if runtime is None:
            runtime = SingleThreadedAgentRuntime(default_timeout=None)
            runtime.start()
            _implicit_runtimes[loop] = runtime
            _started_on[runtime] = loop
        return runtime
    if explicit not in _started_on and isinstance(explicit, SingleThreadedAgentRuntime):
        if not inspect.iscoroutinefunction(explicit.start):  # a runtime that connects (gRPC) is started by its owner
            try:
                explicit.start()
            except RuntimeError:
                pass  # started by its owner, on the loop we are running on (they called an a_ method)
        _started_on[explicit] = loop
    return explicit


async def call_user(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call user code: coroutine functions are awaited, other callables run in a worker thread."""
    if inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "__call__", None)):  # noqa: B004
        return await func(*args, **kwargs)
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    context.run(_CHAT_LOOP.set, loop)
    result = await loop.run_in_executor(_USER_CODE_THREADS, functools.partial(context.run, func, *args, **kwargs))
    if inspect.isawaitable(result):
        return await _awaited(result)
    return result


async def _awaited(value: Awaitable[T]) -> T:
    return await value
