"""Requests across processes: results, typed errors, deadlines and remote cancellation."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from actorgen_core import (
    AgentId,
    CancellationToken,
    DefaultInterventionHandler,
    MessageContext,
    RoutedAgent,
    message_handler,
)
from actorgen_core.application.grpc import RemoteHandlerError
from actorgen_core.exceptions import AgentNotFoundError, CantHandleException, RequestTimeoutError

from .agents import Fail, Nothing, Ping, Pong, Sleep, Unhandled
from .conftest import Cluster


async def wait_for_file(path: Path, timeout: float = 3.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} was not written within {timeout} s")


async def test_requests_and_typed_errors_across_processes(cluster: Cluster, tmp_path: Path) -> None:
    _, address = cluster.start_host()
    remote = cluster.start_worker(address, "echo")
    worker = cluster.worker(address)
    await worker.start()
    echo = AgentId("echo", "k1")

    pong = await worker.send_message(Ping(41), echo, timeout=10)
    assert pong == Pong(41, remote.pid, "k1")  # handled in the other process
    assert await worker.send_message(Nothing(), echo, timeout=10) is None

    with pytest.raises(RemoteHandlerError) as raised:
        await worker.send_message(Fail("bad key"), echo, timeout=10)
    assert raised.value.remote_type == "KeyError"
    assert raised.value.remote_message == "'bad key'"
    assert str(raised.value) == "KeyError: 'bad key'"

    with pytest.raises(CantHandleException):
        await worker.send_message(Unhandled(), echo, timeout=10)

    started = time.monotonic()
    with pytest.raises(AgentNotFoundError, match="nope"):
        await worker.send_message(Ping(1), AgentId("nope", "x"), timeout=30)
    assert time.monotonic() - started < 2  # at once, not at the deadline

    # Two callers' request ids never collide at the host: many concurrent requests from
    # this worker and from a second one all get their own answer.
    other = cluster.worker(address)
    await other.start()
    pairs = [(i, w) for i in range(200) for w in (worker, other)]
    calls = [w.send_message(Ping(i), AgentId("echo", f"c{i % 7}"), timeout=10) for i, w in pairs]
    results = await asyncio.gather(*calls)
    assert [r.n for r in results] == [i for i in range(200) for _ in range(2)]


async def test_deadline_expiry_cancels_the_remote_handler(cluster: Cluster, tmp_path: Path) -> None:
    _, address = cluster.start_host()
    cluster.start_worker(address, "echo")
    worker = cluster.worker(address)
    await worker.start()

    marker = tmp_path / "timeout.txt"
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        await worker.send_message(Sleep(30, str(marker)), AgentId("echo", "slow"), timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert await wait_for_file(marker) == "cancelled token=True"

    # The agent's turn was freed: it answers the next request at once.
    assert (await worker.send_message(Ping(1), AgentId("echo", "slow"), timeout=5)).n == 1

    # Cancelling the caller's token cancels the remote handler too.
    marker2 = tmp_path / "cancel.txt"
    token = CancellationToken()
    call = asyncio.ensure_future(
        worker.send_message(Sleep(30, str(marker2)), AgentId("echo", "slow"), cancellation_token=token, timeout=20)
    )
    await asyncio.sleep(0.3)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await wait_for_file(marker2) == "cancelled token=True"


async def test_a_message_over_the_size_limit_is_refused_alone(cluster: Cluster) -> None:
    _, address = cluster.start_host(None, "--max-message-bytes", str(256 * 1024))
    cluster.start_worker(address, "echo")
    worker = cluster.worker(address, max_message_bytes=256 * 1024)
    await worker.start()
    with pytest.raises(ValueError, match="larger than this worker's limit"):
        await worker.send_message(Fail("x" * 300_000), AgentId("echo", "big"), timeout=10)
    # The stream was never at risk: the next request goes through as usual.
    assert (await worker.send_message(Ping(1), AgentId("echo", "big"), timeout=10)).n == 1


class GivesUp(RoutedAgent):
    """A handler that raises CancelledError itself: before it ever waits (n == -1, -2) or
    after waiting (n == -3)."""

    def __init__(self) -> None:
        super().__init__("gives up")

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
        if message.n == -3:
            await asyncio.sleep(0.05)
        if message.n < 0:
            raise asyncio.CancelledError("gave up")
        return Pong(message.n, os.getpid(), "k")


@pytest.mark.parametrize("observed", [False, True], ids=["plain", "with-intervention"])
async def test_a_handler_raising_cancelled_error_answers_its_remote_caller(cluster: Cluster, observed: bool) -> None:
    _, address = cluster.start_host()
    # An intervention handler makes the worker serve requests through its observed path.
    callee = cluster.worker(address, intervention_handlers=[DefaultInterventionHandler()] if observed else None)
    caller = cluster.worker(address)
    await callee.start()
    await caller.start()
    await GivesUp.register(callee, "gives_up", GivesUp, skip_class_subscriptions=True)
    started = time.monotonic()
    with pytest.raises(RemoteHandlerError) as raised:
        await caller.send_message(Ping(-1), AgentId("gives_up", "k"), timeout=20)
    assert raised.value.remote_type == "CancelledError" and time.monotonic() - started < 5
    # The worker's connection to the host took no harm: it serves on, through the host
    # and directly.
    for n in (1, 2):
        assert (await caller.send_message(Ping(n), AgentId("gives_up", "k"), timeout=10)).n == n
    with pytest.raises(RemoteHandlerError):
        await caller.send_message(Ping(-2), AgentId("gives_up", "k"), timeout=20)
    # The same after the handler waited: its task ends cancelled, the caller still hears.
    started = time.monotonic()
    with pytest.raises(RemoteHandlerError) as raised:
        await caller.send_message(Ping(-3), AgentId("gives_up", "k"), timeout=20)
    assert raised.value.remote_type == "CancelledError" and time.monotonic() - started < 5


class Opaque:
    """Has no serializer: it cannot cross processes."""


class BadAnswers(RoutedAgent):
    """Answers with what cannot go back: too large (n == 1) or without a serializer (n == 2)."""

    def __init__(self) -> None:
        super().__init__("bad answers")

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> Any:
        if message.n == 1:
            return Pong(1, os.getpid(), "x" * 300_000)
        if message.n == 2:
            return Opaque()
        return Pong(message.n, os.getpid(), "k")


async def test_an_answer_that_cannot_go_back_reaches_the_caller_as_an_error(cluster: Cluster) -> None:
    _, address = cluster.start_host(None, "--max-message-bytes", str(256 * 1024))
    callee = cluster.worker(address, max_message_bytes=256 * 1024)
    caller = cluster.worker(address, max_message_bytes=256 * 1024)
    await callee.start()
    await caller.start()
    await BadAnswers.register(callee, "bad_answers", BadAnswers, skip_class_subscriptions=True)
    for n, text in ((1, "larger than this worker's limit"), (2, "No serializer for message type 'Opaque'")):
        started = time.monotonic()
        with pytest.raises(RemoteHandlerError, match=text) as raised:
            await caller.send_message(Ping(n), AgentId("bad_answers", "k"), timeout=20)
        assert raised.value.remote_type == "ValueError" and time.monotonic() - started < 5
    assert (await caller.send_message(Ping(3), AgentId("bad_answers", "k"), timeout=10)).n == 3  # nothing broke


async def test_a_recipient_that_is_not_an_agent_id_is_refused_with_a_clear_type_error(cluster: Cluster) -> None:
    _, address = cluster.start_host()
    worker = cluster.worker(address)
    await worker.start()
    for bad in ({"type": "echo", "key": "k"}, "echo/k", ("echo", "k")):
        with pytest.raises(TypeError, match="recipient must be an AgentId"):
            await worker.send_message(Ping(1), bad, timeout=5)  # type: ignore[arg-type]
