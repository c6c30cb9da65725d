"""Many workers per agent type: keys spread, one activation per AgentId, re-placement when a worker dies."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from actorgen_core import AgentId
from actorgen_core.application.grpc import WorkerLostError

from .agents import GetStats, Ping, Pong, Sleep, Stats
from .conftest import Cluster


async def test_two_workers_serve_one_type(cluster: Cluster, tmp_path: object) -> None:
    _, address = cluster.start_host()
    first = cluster.start_worker(address, "echo")
    second = cluster.start_worker(address, "echo")
    caller = cluster.worker(address)
    other_caller = cluster.worker(address)
    await caller.start()
    await other_caller.start()

    keys = [f"k{i}" for i in range(20)]
    placed = {}
    for key in keys:
        pong = await caller.send_message(Ping(0), AgentId("echo", key), timeout=10)
        assert isinstance(pong, Pong)
        placed[key] = pong.pid
    assert set(placed.values()) == {first.pid, second.pid}  # new keys spread over both workers

    # Sticky: every later request for a key, from any caller, goes where the key lives.
    for key in keys:
        for runtime in (caller, other_caller):
            assert (await runtime.send_message(Ping(1), AgentId("echo", key), timeout=10)).pid == placed[key]

    # Single activation: concurrent requests from two workers to one fresh key run one at a time.
    hot = AgentId("echo", "hot")
    pongs = await asyncio.gather(
        *(
            runtime.send_message(Ping(i, sleep=0.05), hot, timeout=10)
            for i in range(5)
            for runtime in (caller, other_caller)
        )
    )
    assert len({p.pid for p in pongs}) == 1
    stats = await caller.send_message(GetStats(), hot, timeout=10)
    assert stats == Stats(handled=10, max_concurrent=1, pid=pongs[0].pid)

    # kill -9 the worker holding a key while a request to it is in flight: the caller gets
    # a typed error within seconds, and the key is re-placed on the survivor.
    victim_key = next(key for key in keys if placed[key] == first.pid)
    in_flight = asyncio.ensure_future(
        caller.send_message(Sleep(30, str(tmp_path) + "/never"), AgentId("echo", victim_key), timeout=30)
    )
    await asyncio.sleep(0.3)
    killed_at = time.monotonic()
    first.kill()
    with pytest.raises(WorkerLostError):
        await in_flight
    assert time.monotonic() - killed_at < 3
    replaced = await caller.send_message(Ping(2), AgentId("echo", victim_key), timeout=10)
    assert replaced.pid == second.pid
    # Keys that lived on the survivor stay where they were.
    survivor_key = next(key for key in keys if placed[key] == second.pid)
    assert (await caller.send_message(Ping(3), AgentId("echo", survivor_key), timeout=10)).pid == second.pid


async def test_a_hung_worker_is_found_by_heartbeats(cluster: Cluster, tmp_path: object) -> None:
    _, address = cluster.start_host()
    hung = cluster.start_worker(address, "echo")
    caller = cluster.worker(address)
    await caller.start()
    assert (await caller.send_message(Ping(0), AgentId("echo", "h"), timeout=10)).pid == hung.pid
    in_flight = asyncio.ensure_future(caller.send_message(Ping(1, sleep=1.0), AgentId("echo", "h"), timeout=30))
    await asyncio.sleep(0.2)
    hung.proc.send_signal(signal.SIGSTOP)  # alive but silent: its socket stays open
    try:
        stopped_at = time.monotonic()
        with pytest.raises(WorkerLostError):
            await in_flight
        assert time.monotonic() - stopped_at < 8  # heartbeats: cut off after 5 s of silence
    finally:
        hung.proc.send_signal(signal.SIGCONT)


async def test_a_worker_back_from_a_pause_gives_up_agents_placed_elsewhere(cluster: Cluster) -> None:
    host, address = cluster.start_host()
    paused = cluster.start_worker(address, "echo")
    other = cluster.start_worker(address, "echo")
    caller = cluster.worker(address)
    await caller.start()
    key = None
    for i in range(10):
        pong = await caller.send_message(Ping(0), AgentId("echo", f"p{i}"), timeout=10)
        if pong.pid == paused.pid:
            key = AgentId("echo", f"p{i}")
            break
    assert key is not None
    assert (await caller.send_message(Ping(1), key, timeout=10)).pid == paused.pid  # now on the direct path

    paused.proc.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(WorkerLostError):  # the direct stream goes silent: the request fails
            await caller.send_message(Ping(2), key, timeout=30)
        deadline = time.monotonic() + 10
        while True:  # the host cuts the paused worker off and places the key on the other one
            try:
                pong = await caller.send_message(Ping(3), key, timeout=2)
                break
            except (WorkerLostError, TimeoutError):
                assert time.monotonic() < deadline
        assert pong.pid == other.pid
    finally:
        paused.proc.send_signal(signal.SIGCONT)

    # Back, the paused worker reconnects and re-claims what it held; the host refuses the
    # key (active elsewhere now) and the worker lets it go: one activation, on `other`.
    deadline = time.monotonic() + 10
    while "cannot hold" not in host.stderr():
        assert time.monotonic() < deadline, host.stderr()
        await asyncio.sleep(0.1)
    fresh = cluster.worker(address)
    await fresh.start()
    for _ in range(3):
        assert (await fresh.send_message(Ping(4), key, timeout=10)).pid == other.pid


async def test_an_agent_re_placed_after_its_worker_died_resumes_from_the_shared_state_store(
    cluster: Cluster, tmp_path: object
) -> None:
    # Two workers serve one type and share a SQLite state store: the state an agent wrote
    # after its last turn on the worker that was killed is what it starts from on the other.
    db = f"{tmp_path}/agents.db"
    _, address = cluster.start_host()
    first = cluster.start_worker(address, "echo", "--state-db", db)
    second = cluster.start_worker(address, "echo", "--state-db", db)
    caller = cluster.worker(address)
    await caller.start()

    key = None
    for i in range(40):
        pong = await caller.send_message(Ping(0), AgentId("echo", f"k{i}"), timeout=10)
        if pong.pid == first.pid:
            key = f"k{i}"
            break
    assert key is not None, "no key was placed on the first worker"
    target = AgentId("echo", key)
    for n in range(1, 4):
        assert (await caller.send_message(Ping(n), target, timeout=10)).pid == first.pid
    stats = await caller.send_message(GetStats(), target, timeout=10)
    assert stats.handled == 4 and stats.pid == first.pid
    await asyncio.sleep(0.5)  # the write after the last turn completes after its reply

    first.kill()
    deadline = time.monotonic() + 10
    while True:  # until the host has noticed the loss and re-places the key
        try:
            pong = await caller.send_message(Ping(9), target, timeout=5)
            break
        except WorkerLostError:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
    assert pong.pid == second.pid
    stats = await caller.send_message(GetStats(), target, timeout=10)
    assert stats == Stats(handled=5, max_concurrent=1, pid=second.pid)  # 4 from the first worker, 1 here
