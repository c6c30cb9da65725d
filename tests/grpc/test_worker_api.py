"""The rest of the worker's AgentRuntime API across processes: interventions, tracing,
state of local agents, graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from actorgen_core import AgentId, DefaultInterventionHandler, DropMessage, MessageContext
from actorgen_core.exceptions import MessageDroppedException, NotAccessibleError

from .agents import Echo, GetStats, Nothing, Ping, Pong
from .conftest import Cluster


class DropNothing(DefaultInterventionHandler):
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        self.seen.append(f"{type(message).__name__}->{recipient}")
        return DropMessage if isinstance(message, Nothing) else message


async def test_interventions_run_on_the_delivering_worker(cluster: Cluster) -> None:
    _, address = cluster.start_host()
    handler = DropNothing()
    owner = cluster.worker(address, intervention_handlers=[handler])
    caller = cluster.worker(address)
    await owner.start()
    await caller.start()
    await Echo.register(owner, "echo", Echo, skip_class_subscriptions=True)

    assert (await caller.send_message(Ping(1), AgentId("echo", "k"), timeout=10)).n == 1
    with pytest.raises(MessageDroppedException):
        await caller.send_message(Nothing(), AgentId("echo", "k"), timeout=10)
    assert handler.seen == ["Ping->echo/k", "Nothing->echo/k"]


async def test_trace_context_crosses_the_wire(cluster: Cluster) -> None:
    _, address = cluster.start_host()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    owner = cluster.worker(address, tracer_provider=provider)
    caller = cluster.worker(address, tracer_provider=provider)
    await owner.start()
    await caller.start()
    await Echo.register(owner, "echo", Echo, skip_class_subscriptions=True)

    with provider.get_tracer("test").start_as_current_span("root") as root:
        await caller.send_message(Ping(1), AgentId("echo", "k"), timeout=10)
    trace_id = root.get_span_context().trace_id
    remote = [s for s in exporter.get_finished_spans() if s.name == "actorgen process echo.(k)-A"]
    assert remote and all(s.context.trace_id == trace_id for s in remote)


async def test_state_and_instances_of_local_agents(cluster: Cluster) -> None:
    _, address = cluster.start_host()
    cluster.start_worker(address, "echo")
    worker = cluster.worker(address)
    await worker.start()
    # An instance registered here is claimed for this worker: others reach it through the host.
    mine = Echo()
    await worker.register_agent_instance(mine, AgentId("mine", "only"))
    other = cluster.worker(address)
    await other.start()
    assert (await other.send_message(Ping(3), AgentId("mine", "only"), timeout=10)).key == "only"
    assert mine.handled == 1
    assert await worker.agent_save_state(AgentId("mine", "only")) == {"handled": 1}
    assert (await worker.save_state())["mine/only"] == {"handled": 1}

    # get(lazy=False) and load_state create agents here only after the host agreed.
    await Echo.register(worker, "echo", Echo, skip_class_subscriptions=True)  # a second worker for "echo"
    await worker.get("echo", "here", lazy=False)
    assert (await other.send_message(Ping(1), AgentId("echo", "here"), timeout=10)).pid == os.getpid()
    await worker.load_state({"echo/loaded": {"handled": 5}})
    assert (await other.send_message(GetStats(), AgentId("echo", "loaded"), timeout=10)).handled == 5
    elsewhere = None
    for i in range(6):  # new keys alternate between the two workers of "echo"
        if (await other.send_message(Ping(2), AgentId("echo", f"there{i}"), timeout=10)).pid != os.getpid():
            elsewhere = AgentId("echo", f"there{i}")
            break
    assert elsewhere is not None
    # Active on the child: no way of reaching the object lets this worker take it over.
    with pytest.raises(NotAccessibleError):
        await worker.agent_metadata(elsewhere)
    with pytest.raises(NotAccessibleError):
        await worker.agent_save_state(elsewhere)
    with pytest.raises(NotAccessibleError):
        await worker.agent_load_state(elsewhere, {"handled": 0})
    with pytest.raises(NotAccessibleError):
        await worker.try_get_underlying_agent_instance(elsewhere)
    with pytest.raises(NotAccessibleError):
        await worker.get(elsewhere, lazy=False)


async def test_sigterm_drains_requests_in_progress(cluster: Cluster) -> None:
    _, address = cluster.start_host()
    remote = cluster.start_worker(address, "echo")
    worker = cluster.worker(address)
    await worker.start()
    call = asyncio.ensure_future(worker.send_message(Ping(9, sleep=1.0), AgentId("echo", "k"), timeout=10))
    await asyncio.sleep(0.4)
    remote.proc.send_signal(signal.SIGTERM)
    assert await call == Pong(9, remote.pid, "k")  # answered before the worker left
    deadline = time.monotonic() + 10
    while remote.proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert remote.proc.returncode == 0, remote.stderr()
