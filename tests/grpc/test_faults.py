"""The host goes away and comes back: workers reconnect and re-assert everything by themselves."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from actorgen_core import AgentId, TopicId
from actorgen_core.application.grpc import HostUnavailableError

from .agents import Ping, Pong, Tick
from .conftest import Cluster, free_port
from .test_pubsub_and_chains import wait_ticks


async def test_host_restart_on_the_same_port(cluster: Cluster) -> None:
    port = free_port()
    host, address = cluster.start_host(port)
    remote = cluster.start_worker(address, "echo,sub")
    worker = cluster.worker(address)
    await worker.start()
    assert (await worker.send_message(Ping(1), AgentId("echo", "k"), timeout=10)).pid == remote.pid
    await worker.publish_message(Tick(0), TopicId("fan", "r"))
    assert (await wait_ticks(worker, AgentId("sub", "r"), 1)).count == 1

    host.kill()  # SIGKILL: nothing is said goodbye to
    cluster.start_host(port)

    # No user action: both workers reconnect, re-declare types, subscriptions and the agents they hold.
    deadline = time.monotonic() + 15
    while True:
        try:
            pong = await worker.send_message(Ping(2), AgentId("echo", "k"), timeout=2)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
    assert pong == Pong(2, remote.pid, "k")
    await worker.publish_message(Tick(1), TopicId("fan", "r"))
    ticks = await wait_ticks(worker, AgentId("sub", "r"), 2, timeout=10)
    assert ticks.count == 2 and ticks.in_order  # the same subscriber instance, state kept


async def test_a_silent_host_is_left_and_rejoined(cluster: Cluster) -> None:
    host, address = cluster.start_host()
    remote = cluster.start_worker(address, "echo")
    worker = cluster.worker(address)
    await worker.start()
    assert (await worker.send_message(Ping(1), AgentId("echo", "k"), timeout=10)).pid == remote.pid

    host.proc.send_signal(signal.SIGSTOP)  # hung, socket open: only heartbeats can tell
    try:
        # An agent whose place is known is reached directly, host or no host ...
        assert (await worker.send_message(Ping(2), AgentId("echo", "k"), timeout=3)).pid == remote.pid
        # ... a new one needs the host: the worker notices the silence and says so.
        in_flight = asyncio.ensure_future(worker.send_message(Ping(2), AgentId("echo", "new"), timeout=30))
        started = time.monotonic()
        with pytest.raises(HostUnavailableError):
            await in_flight
        assert time.monotonic() - started < 9
    finally:
        host.proc.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + 20
    while True:
        try:
            pong = await worker.send_message(Ping(3), AgentId("echo", "k"), timeout=2)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
    assert pong == Pong(3, remote.pid, "k")
