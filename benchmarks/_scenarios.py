"""Scenario-process side of ``runtime_bench.py``: messages, agents and the four in-process scenarios.

This module runs under whichever interpreter measures a library: the project's venv for
actorgen (``actorgen_core``) or a reference venv for Microsoft's ``autogen_core``. It uses
the standard library plus the names both libraries export (``SHARED_NAMES``), nothing else.

Deliberately NO ``from __future__ import annotations``: ``message_handler`` reads the
handler's type hints, and real (already evaluated) annotations make that work for agent
classes defined inside ``make_agents``.
"""

import asyncio
import gc
import math
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from types import SimpleNamespace
from typing import Any

BODY_LEN = 64
"""Characters in the ``body`` of every Ping / Tick."""

LIBRARIES = {
    # --impl value: (module to import, distribution name for the version)
    "actorgen": ("actorgen_core", "actorgen-core"),
    "autogen": ("autogen_core", "autogen-core"),
}

SHARED_NAMES = (
    "AgentId",
    "TopicId",
    "RoutedAgent",
    "message_handler",
    "MessageContext",
    "SingleThreadedAgentRuntime",
    "TypeSubscription",
    "try_get_known_serializers_for_type",
)


# --------------------------------------------------------------------------- messages
@dataclass
class Ping:
    seq: int
    body: str


@dataclass
class Pong:
    seq: int


@dataclass
class Tick:
    seq: int
    body: str


@dataclass
class RunRpc:
    """Tells the sender agent to make ``total`` requests from ``concurrency`` coroutines."""

    target_type: str
    n_keys: int
    total: int
    concurrency: int
    warmup: int
    body_len: int


@dataclass
class RunDone:
    calls: int
    errors: int
    seconds: float
    cpu_s: float


MESSAGE_TYPES = (Ping, Pong, Tick, RunRpc, RunDone)


# --------------------------------------------------------------------------- library selection
def load_library(impl: str) -> SimpleNamespace:
    """Import the library named by ``impl`` and return the shared names plus its version."""
    if impl not in LIBRARIES:
        raise ValueError(f"unknown implementation {impl!r}; known: {', '.join(LIBRARIES)}")
    module_name, dist = LIBRARIES[impl]
    module = import_module(module_name)
    missing = [name for name in SHARED_NAMES if not hasattr(module, name)]
    if missing:
        raise ImportError(f"{module_name} lacks {', '.join(missing)}")
    try:
        dist_version = version(dist)
    except PackageNotFoundError:
        dist_version = "?"
    lib = SimpleNamespace(**{name: getattr(module, name) for name in SHARED_NAMES})
    lib.impl = impl
    lib.module = module_name
    lib.version = f"{dist} {dist_version}"
    return lib


def describe(impl: str) -> dict[str, Any]:
    """What ``--_probe`` reports: the library, its version and the interpreter."""
    lib = load_library(impl)
    for message_type in MESSAGE_TYPES:  # both libraries must see the messages as JSON-serializable
        if not lib.try_get_known_serializers_for_type(message_type):
            raise TypeError(f"{lib.module} has no serializer for {message_type.__name__}")
    return {
        "impl": impl,
        "impl_version": lib.version,
        "python": sys.version.split()[0],
        "executable": sys.executable,
    }


# --------------------------------------------------------------------------- per-process state
class Collector:
    """What the agents record; one per scenario process."""

    def __init__(self) -> None:
        self.latencies_ns: list[int] = []
        self.errors: list[str] = []
        self.agents_created = 0
        self.delivered = 0
        self.warm_delivered = 0
        self.warm_target = 0
        self.warm_done: asyncio.Event | None = None


PHASE = ["init"]
"""The scenario phase running now; error reports name it."""


def phase(name: str) -> None:
    PHASE[0] = name


# --------------------------------------------------------------------------- agents
def make_agents(lib: SimpleNamespace, st: Collector) -> SimpleNamespace:
    """Define the benchmark agents on top of ``lib.RoutedAgent``."""
    RoutedAgent = lib.RoutedAgent
    message_handler = lib.message_handler
    MessageContext = lib.MessageContext
    AgentId = lib.AgentId

    class ReceiverAgent(RoutedAgent):
        """Answers a Ping with a Pong; does nothing else."""

        def __init__(self) -> None:
            super().__init__("benchmark receiver")
            st.agents_created += 1

        @message_handler
        async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
            return Pong(seq=message.seq)

    class CountingSubscriber(RoutedAgent):
        """Counts published Ticks; a negative seq marks a warm-up Tick."""

        def __init__(self) -> None:
            super().__init__("benchmark subscriber")
            st.agents_created += 1

        @message_handler
        async def on_tick(self, message: Tick, ctx: MessageContext) -> None:
            if message.seq < 0:
                st.warm_delivered += 1
                if st.warm_delivered == st.warm_target and st.warm_done is not None:
                    st.warm_done.set()
                return
            st.delivered += 1

    class SenderAgent(RoutedAgent):
        """Makes the RPC load from inside its own handler (agent-to-agent send_message)."""

        def __init__(self) -> None:
            super().__init__("benchmark sender")

        @message_handler
        async def on_run(self, message: RunRpc, ctx: MessageContext) -> RunDone:
            body = "x" * message.body_len
            targets = [AgentId(message.target_type, f"k{i}") for i in range(message.n_keys)]
            for target in targets:  # creates every receiver; not timed
                await self.send_message(Ping(seq=-1, body=body), target)
            for i in range(message.warmup):  # warms the send path; not timed
                await self.send_message(Ping(seq=-1, body=body), targets[i % len(targets)])

            latencies = st.latencies_ns
            errors = st.errors
            clock = time.perf_counter_ns
            send = self.send_message

            async def caller(index: int, count: int) -> None:
                target = targets[index % len(targets)]
                for j in range(count):
                    t0 = clock()
                    try:
                        reply = await send(Ping(seq=j, body=body), target)
                    except Exception as e:  # counted and reported, never hidden
                        errors.append(repr(e))
                        continue
                    latencies.append(clock() - t0)
                    if reply.seq != j:
                        errors.append(f"reply seq {reply.seq} != {j}")

            concurrency = max(1, message.concurrency)
            per, extra = divmod(message.total, concurrency)
            cpu0 = time.process_time()
            t_start = clock()
            if concurrency == 1:
                await caller(0, message.total)
            else:
                await asyncio.gather(*(caller(i, per + (1 if i < extra else 0)) for i in range(concurrency)))
            seconds = (clock() - t_start) / 1e9
            return RunDone(calls=len(latencies), errors=len(errors), seconds=seconds, cpu_s=time.process_time() - cpu0)

    return SimpleNamespace(ReceiverAgent=ReceiverAgent, CountingSubscriber=CountingSubscriber, SenderAgent=SenderAgent)


# --------------------------------------------------------------------------- measurement helpers
def current_rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def percentile_us(sorted_ns: list[int], q: float) -> float | None:
    """Nearest-rank percentile of nanosecond samples, in microseconds."""
    if not sorted_ns:
        return None
    k = max(0, min(len(sorted_ns) - 1, math.ceil(q * len(sorted_ns)) - 1))
    return round(sorted_ns[k] / 1000.0, 1)


def latency_fields(samples_ns: list[int]) -> dict[str, float | None]:
    s = sorted(samples_ns)
    return {
        "p50_us": percentile_us(s, 0.50),
        "p99_us": percentile_us(s, 0.99),
        "mean_us": round(sum(s) / len(s) / 1000.0, 1) if s else None,
        "max_us": round(s[-1] / 1000.0, 1) if s else None,
    }


def calibrate() -> float:
    """Nanoseconds per iteration of a fixed pure-Python loop (best of 5).

    The same for every library; when it moves between runs, the machine (not the code)
    got faster or slower, which on shared virtual machines happens.
    """
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter_ns()
        total = 0
        for i in range(100_000):
            total += i & 7
        best = min(best, (time.perf_counter_ns() - t0) / 100_000)
    return round(best, 2)


class Profiler:
    """Optional cProfile of the timed phase (``--profile-dir``)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._prof: Any = None

    def begin(self) -> None:
        if self.path:
            import cProfile

            self._prof = cProfile.Profile()
            self._prof.enable()

    def end(self) -> None:
        if self._prof is not None:
            self._prof.disable()
            self._prof.dump_stats(self.path)
            self._prof = None


# --------------------------------------------------------------------------- scenarios
async def scenario_rpc(lib: SimpleNamespace, cfg: dict[str, Any], prof: Profiler) -> dict[str, Any]:
    """rpc_seq / rpc_concurrent: a sender agent awaits send_message(Ping) to receiver agents."""
    st = Collector()
    agents = make_agents(lib, st)
    n, concurrency = int(cfg["n"]), int(cfg["concurrency"])
    phase("setup")
    rt = lib.SingleThreadedAgentRuntime()
    await agents.SenderAgent.register(rt, "bench_sender", agents.SenderAgent)
    await agents.ReceiverAgent.register(rt, "bench_recv", agents.ReceiverAgent)
    rt.start()
    phase("measure")
    prof.begin()
    try:
        done = await rt.send_message(
            RunRpc(
                target_type="bench_recv",
                n_keys=concurrency,
                total=n,
                concurrency=concurrency,
                warmup=int(cfg["warmup"]),
                body_len=BODY_LEN,
            ),
            lib.AgentId("bench_sender", "default"),
        )
    finally:
        prof.end()
    phase("stop_when_idle")
    await rt.stop_when_idle()
    out: dict[str, Any] = {
        "ops": done.calls,
        "seconds": round(done.seconds, 4),
        "ops_per_s": round(done.calls / done.seconds, 1) if done.seconds > 0 else None,
        "cpu_s": round(done.cpu_s, 3),
        "concurrency": concurrency,
        "receivers": concurrency,
        "rpc_errors": done.errors,
    }
    out.update(latency_fields(st.latencies_ns))
    if st.errors:
        out["first_errors"] = st.errors[:3]
    if done.calls != n or done.errors:
        out["error"] = f"{done.calls} of {n} RPCs succeeded, {done.errors} errors"
    return out


async def scenario_publish_fanout(lib: SimpleNamespace, cfg: dict[str, Any], prof: Profiler) -> dict[str, Any]:
    """publish_fanout: N publishes to one topic that 100 agent types subscribe to."""
    st = Collector()
    agents = make_agents(lib, st)
    n, subscribers, warmup = int(cfg["n"]), int(cfg["subscribers"]), int(cfg["warmup"])
    phase("setup")
    rt = lib.SingleThreadedAgentRuntime()
    # A TypeSubscription maps TopicId(topic_type, source) to AgentId(agent_type, source): one
    # agent per subscribed type. A fan-out to 100 agents therefore needs 100 agent types.
    for i in range(subscribers):
        agent_type = f"bench_sub_{i}"
        await agents.CountingSubscriber.register(
            rt, agent_type, agents.CountingSubscriber, skip_class_subscriptions=True
        )
        await rt.add_subscription(lib.TypeSubscription(topic_type="bench_fanout", agent_type=agent_type))
    topic = lib.TopicId("bench_fanout", "default")
    body = "x" * BODY_LEN
    st.warm_target = warmup * subscribers
    st.warm_done = asyncio.Event()
    if st.warm_target == 0:
        st.warm_done.set()
    rt.start()
    phase("warmup")
    for i in range(warmup):  # also creates the subscriber agents
        await rt.publish_message(Tick(seq=-(i + 1), body=body), topic)
    await st.warm_done.wait()
    phase("measure")
    prof.begin()
    cpu0 = time.process_time()
    t0 = time.perf_counter_ns()
    try:
        for i in range(n):
            await rt.publish_message(Tick(seq=i, body=body), topic)
        t_published = time.perf_counter_ns()
        phase("stop_when_idle")
        await rt.stop_when_idle()
        t1 = time.perf_counter_ns()
    finally:
        prof.end()
    cpu_s = time.process_time() - cpu0
    seconds = (t1 - t0) / 1e9
    out: dict[str, Any] = {
        "ops": st.delivered,
        "seconds": round(seconds, 4),
        "ops_per_s": round(st.delivered / seconds, 1) if seconds > 0 else None,
        "cpu_s": round(cpu_s, 3),
        "subscribers": subscribers,
        "publishes_per_s": round(n / seconds, 1) if seconds > 0 else None,
        "publish_call_seconds": round((t_published - t0) / 1e9, 4),
    }
    if st.delivered != n * subscribers:
        out["error"] = f"{st.delivered} of {n * subscribers} deliveries arrived before stop_when_idle returned"
    return out


async def scenario_lazy_create(lib: SimpleNamespace, cfg: dict[str, Any], prof: Profiler) -> dict[str, Any]:
    """lazy_create: the first message to each of N distinct keys runs the factory N times."""
    st = Collector()
    agents = make_agents(lib, st)
    n, warmup = int(cfg["n"]), int(cfg["warmup"])
    AgentId = lib.AgentId
    phase("setup")
    rt = lib.SingleThreadedAgentRuntime()
    await agents.ReceiverAgent.register(rt, "bench_lazy", agents.ReceiverAgent)
    await agents.ReceiverAgent.register(rt, "bench_lazy_warm", agents.ReceiverAgent)
    rt.start()
    body = "x" * BODY_LEN
    phase("warmup")
    for i in range(warmup):  # warms the code path and the allocator with another agent type
        await rt.send_message(Ping(seq=-1, body=body), AgentId("bench_lazy_warm", f"w{i}"))
    created_before = st.agents_created
    gc.collect()
    rss0 = current_rss_bytes()
    phase("measure")
    clock = time.perf_counter_ns
    latencies: list[int] = []
    errors: list[str] = []
    prof.begin()
    cpu0 = time.process_time()
    t0 = clock()
    try:
        for i in range(n):
            a = clock()
            try:
                reply = await rt.send_message(Ping(seq=i, body=body), AgentId("bench_lazy", f"k{i}"))
            except Exception as e:
                errors.append(repr(e))
                continue
            latencies.append(clock() - a)
            if reply.seq != i:
                errors.append(f"reply seq {reply.seq} != {i}")
        t1 = clock()
    finally:
        prof.end()
    cpu_s = time.process_time() - cpu0
    gc.collect()
    rss1 = current_rss_bytes()
    created = st.agents_created - created_before
    phase("existing_agent_rpc")  # the same call to agents that exist now: creation cost = difference
    existing: list[int] = []
    for i in range(min(n, 2000)):
        a = clock()
        await rt.send_message(Ping(seq=i, body=body), AgentId("bench_lazy", f"k{i}"))
        existing.append(clock() - a)
    phase("stop_when_idle")
    await rt.stop_when_idle()
    seconds = (t1 - t0) / 1e9
    lat = latency_fields(latencies)
    out: dict[str, Any] = {
        "ops": created,
        "seconds": round(seconds, 4),
        "ops_per_s": round(created / seconds, 1) if seconds > 0 else None,
        "cpu_s": round(cpu_s, 3),
        "p50_us": lat["p50_us"],
        "p99_us": lat["p99_us"],
        "rss_delta_mb": round((rss1 - rss0) / 2**20, 2),
        "bytes_per_agent": round((rss1 - rss0) / max(1, created)),
        "existing_agent_rpc_p50_us": percentile_us(sorted(existing), 0.5),
        "rpc_errors": len(errors),
    }
    if errors:
        out["first_errors"] = errors[:3]
    if created != n or errors:
        out["error"] = f"factory ran {created} times for {n} distinct keys, {len(errors)} errors"
    return out


SCENARIO_FUNCTIONS: dict[str, Callable[[SimpleNamespace, dict[str, Any], Profiler], Awaitable[dict[str, Any]]]] = {
    "rpc_seq": scenario_rpc,
    "rpc_concurrent": scenario_rpc,
    "publish_fanout": scenario_publish_fanout,
    "lazy_create": scenario_lazy_create,
}


async def _fault(kind: str) -> None:
    """Misbehave on purpose (hidden ``--_fault``), to test that failures are reported, not hung on."""
    phase(f"fault:{kind}")
    if kind == "hang":  # waits forever without blocking the loop: the scenario timeout fires
        await asyncio.Event().wait()
    elif kind == "block":  # blocks the event loop: only the driver's hard timeout helps
        while True:
            time.sleep(1.0)
    elif kind == "raise":
        raise RuntimeError("injected failure")
    else:
        raise ValueError(f"unknown fault {kind!r}")


def run_scenario(
    scenario: str,
    impl: str,
    cfg: dict[str, Any],
    timeout: float,
    profile_path: str | None,
    fault: str | None = None,
) -> dict[str, Any]:
    """Run one scenario in this process, bounded by ``timeout``; return its result fields.

    Raises TimeoutError naming the phase that did not finish.
    """
    lib = load_library(impl)
    if scenario.startswith("grpc_"):
        import _grpc_scenarios  # imports this module: loaded only when needed

        func = _grpc_scenarios.scenario_grpc
    else:
        func = SCENARIO_FUNCTIONS[scenario]
    prof = Profiler(profile_path)
    calibration = calibrate()

    async def body() -> dict[str, Any]:
        if fault:
            await _fault(fault)
        return await func(lib, cfg, prof)

    async def main() -> dict[str, Any]:
        try:
            return await asyncio.wait_for(body(), timeout)
        except TimeoutError:  # asyncio.TimeoutError is TimeoutError since Python 3.11
            raise TimeoutError(f"timeout after {timeout:g} s in phase {PHASE[0]}") from None

    result = asyncio.run(main())
    result["peak_rss_mb"] = peak_rss_mb()
    result["calibration_ns"] = calibration
    result["impl_version"] = lib.version
    result["python"] = sys.version.split()[0]
    return result
