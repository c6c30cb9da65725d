"""The distributed scenarios: a host and a receiving worker in their own processes, the
sending worker in the scenario process. Same agents and messages as the in-process ones.

Child roles (started by the scenario, never by hand):
    python _grpc_scenarios.py host IMPL PORT
    python _grpc_scenarios.py receiver IMPL ADDRESS rpc|publish EXPECTED
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from importlib import import_module
from types import SimpleNamespace
from typing import Any

import _scenarios
from _scenarios import BODY_LEN, MESSAGE_TYPES, Collector, Profiler, RunRpc, Tick, latency_fields, make_agents, phase

GRPC_MODULES = {"actorgen": "actorgen_core.application", "autogen": "autogen_ext.runtimes.grpc"}
N_SUB_TYPES = 10
SELF = os.path.abspath(__file__)


def grpc_names(impl: str) -> SimpleNamespace:
    module = import_module(GRPC_MODULES[impl])
    return SimpleNamespace(Host=module.GrpcWorkerAgentRuntimeHost, Worker=module.GrpcWorkerAgentRuntime)


def add_serializers(lib: SimpleNamespace, runtime: Any) -> None:
    # The reference needs serializers for request *and* response types on both ends.
    for message_type in MESSAGE_TYPES:
        runtime.add_message_serializer(lib.try_get_known_serializers_for_type(message_type))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Children:
    """Host and receiver processes; killed by PID when the scenario ends, whatever happens."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.cpu: dict[str, float] = {}  # CPU seconds each child reported on exit

    def start(self, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, SELF, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
        )
        self.procs.append(proc)
        return proc

    async def line(self, proc: subprocess.Popen[str], prefix: str, timeout: float = 60.0) -> str:
        assert proc.stdout is not None
        loop = asyncio.get_running_loop()
        while True:
            text = await asyncio.wait_for(loop.run_in_executor(None, proc.stdout.readline), timeout)
            if not text:
                raise RuntimeError(f"{proc.args[2:4]} exited (status {proc.poll()}) before printing {prefix!r}")
            if text.startswith(prefix):
                return text.strip()

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            try:
                cpu = proc.stdout.read() if proc.stdout else ""
            except ValueError:
                cpu = ""
            for text in cpu.splitlines():
                if text.startswith("CPU "):
                    self.cpu[proc.args[2]] = float(text.split()[1])


async def scenario_grpc(lib: SimpleNamespace, cfg: dict[str, Any], prof: Profiler) -> dict[str, Any]:
    names = grpc_names(lib.impl)
    kind = cfg["kind"]
    n = int(cfg["n"])
    warmup = int(cfg["warmup"])
    children = Children()
    phase("setup")
    try:
        port = free_port()
        address = f"127.0.0.1:{port}"
        host = children.start("host", lib.impl, str(port))
        await children.line(host, "READY")
        expected = (warmup + n) * N_SUB_TYPES if kind == "publish" else 0
        receiver = children.start("receiver", lib.impl, address, kind, str(expected), str(warmup * N_SUB_TYPES))
        await children.line(receiver, "READY")
        runtime = names.Worker(host_address=address)
        add_serializers(lib, runtime)
        await runtime.start()
        st = Collector()
        agents = make_agents(lib, st)
        if kind == "rpc":
            await agents.SenderAgent.register(runtime, "bench_sender", agents.SenderAgent)
            concurrency = int(cfg["concurrency"])
            phase("measure")
            prof.begin()
            done = await runtime.send_message(
                RunRpc("bench_recv", concurrency, n, concurrency, warmup, BODY_LEN),
                lib.AgentId("bench_sender", "default"),
            )
            prof.end()
            out: dict[str, Any] = {
                "ops": done.calls,
                "seconds": round(done.seconds, 4),
                "ops_per_s": round(done.calls / done.seconds, 1) if done.seconds > 0 else None,
                "concurrency": concurrency,
                "rpc_errors": done.errors,
            }
            out.update(latency_fields(st.latencies_ns))
            if done.calls != n or done.errors:
                out["error"] = f"{done.calls} of {n} RPCs succeeded, {done.errors} errors"
        else:
            topic = lib.TopicId("bench_gfan", "default")
            body = "x" * BODY_LEN
            phase("warmup")
            for i in range(warmup):
                await runtime.publish_message(Tick(seq=-1 - i, body=body), topic)
            await children.line(receiver, "WARM")
            phase("measure")
            prof.begin()
            t0 = time.monotonic()
            for i in range(n):
                await runtime.publish_message(Tick(seq=i, body=body), topic)
            publish_seconds = time.monotonic() - t0
            done_at = float((await children.line(receiver, "DONE")).split()[1])
            prof.end()
            seconds = done_at - t0
            out = {
                "ops": n * N_SUB_TYPES,
                "seconds": round(seconds, 4),
                "ops_per_s": round(n * N_SUB_TYPES / seconds, 1),
                "publishes_per_s": round(n / seconds, 1),
                "publish_call_seconds": round(publish_seconds, 4),
            }
        phase("stop")
        await runtime.stop()
    finally:
        children.close()
    out["cpu_s_by_proc"] = dict(children.cpu)
    return out


# --------------------------------------------------------------------------- child roles
async def run_host(impl: str, port: str) -> None:
    names = grpc_names(impl)
    host = names.Host(address=f"127.0.0.1:{port}")
    host.start()
    await asyncio.sleep(0.3)  # the reference's start() returns before the server listens
    print("READY", flush=True)
    await _until_term()
    await host.stop(grace=1)


async def run_receiver(impl: str, address: str, kind: str, expected: int, warm: int) -> None:
    lib = _scenarios.load_library(impl)
    names = grpc_names(impl)
    st = Collector()
    agents = make_agents(lib, st)
    runtime = names.Worker(host_address=address)
    add_serializers(lib, runtime)
    await runtime.start()
    if kind == "rpc":
        await agents.ReceiverAgent.register(runtime, "bench_recv", agents.ReceiverAgent)
    else:
        st.warm_target = warm
        st.warm_done = asyncio.Event()
        for i in range(N_SUB_TYPES):
            await agents.CountingSubscriber.register(
                runtime, f"bench_gsub_{i}", agents.CountingSubscriber, skip_class_subscriptions=True
            )
            await runtime.add_subscription(lib.TypeSubscription(topic_type="bench_gfan", agent_type=f"bench_gsub_{i}"))
    print("READY", flush=True)
    if kind == "publish":
        await st.warm_done.wait()
        print("WARM", flush=True)
        while st.delivered < expected - warm:
            await asyncio.sleep(0.0005)
        print(f"DONE {time.monotonic()}", flush=True)
    await _until_term()
    await runtime.stop()


async def _until_term() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    parent = os.getppid()
    while not stop.is_set() and os.getppid() == parent:  # also leave when orphaned
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except TimeoutError:
            pass
    print(f"CPU {time.process_time():.3f}", flush=True)


if __name__ == "__main__":
    role, impl = sys.argv[1], sys.argv[2]
    if role == "host":
        asyncio.run(run_host(impl, sys.argv[3]))
    else:
        asyncio.run(run_receiver(impl, sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])))
