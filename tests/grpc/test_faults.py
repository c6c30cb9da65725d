"""The host goes away and comes back: workers reconnect and re-assert everything by themselves."""

from __future__ import annotations

import asyncio
import time

from actorgen_core import AgentId, TopicId

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
