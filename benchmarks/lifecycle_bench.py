"""Virtual-actor lifecycle benchmark: what deactivation and durable state cost, and what they save.

Scenarios (each in its own process, so RSS numbers do not mix):

* ``churn_sqlite``: agents/s when every agent is activated (its state loaded from SQLite),
  handles one message that changes its state (written to SQLite after the turn) and is
  deactivated again (a live cap of 1 000 evicts the least recently used).
* ``idle_rss``: RSS before, at the peak and after 100 000 agents touched once with
  ``idle_timeout`` on have been deactivated: memory comes back instead of growing forever.
* ``capped_rss``: steady-state RSS for 1 000 000 agents touched once with a live cap of
  100 000 per type (no store): memory is bounded by the cap, not by the agents touched.

Run it with:  uv run python benchmarks/lifecycle_bench.py [--scale 0.1] [--scenarios idle_rss,...]

The numbers go to stdout; there are no timed assertions anywhere (tests assert behaviour).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actorgen_core import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler
from actorgen_core.application import SqliteStateStore


@dataclass
class Touch:
    n: int


class Session(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("a session")
        self.count = 0

    @message_handler
    async def on_touch(self, message: Touch, ctx: MessageContext) -> None:
        self.count += message.n

    async def save_state(self) -> Mapping[str, Any]:
        return {"count": self.count}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.count = state["count"]


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


async def churn_sqlite(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        store = SqliteStateStore(Path(directory) / "bench.db")
        runtime = SingleThreadedAgentRuntime(state_store=store, max_live_per_type=1000)
        await Session.register(runtime, "session", Session)
        runtime.start()
        start = time.perf_counter()
        for i in range(n):
            await runtime.publish_message(Touch(1), _topic(i))
            if i % 500 == 499:
                await runtime.stop_when_idle()
                runtime.start()
        await runtime.stop_when_idle()
        elapsed = time.perf_counter() - start
        live = len(runtime._instantiated_agents)
        await runtime.close()
        await store.close()
    return {"agents": n, "agents_per_s": round(n / elapsed), "live_at_end": live}


def _topic(i: int) -> Any:
    from actorgen_core import TopicId

    return TopicId("session:", f"user-{i}")


async def idle_rss(n: int) -> dict[str, Any]:
    runtime = SingleThreadedAgentRuntime(idle_timeout=1.0)
    await runtime.register_factory("session", Session)
    runtime.start()
    gc.collect()
    baseline = rss_mb()
    for i in range(n):
        await runtime.send_message(Touch(1), AgentId("session", f"user-{i}"))
    peak = rss_mb()
    live_at_peak = len(runtime._activations)
    while runtime._activations:
        await asyncio.sleep(0.25)
    gc.collect()
    after = rss_mb()
    await runtime.close()
    return {
        "agents": n,
        "rss_baseline_mb": round(baseline, 1),
        "rss_peak_mb": round(peak, 1),
        "live_at_peak": live_at_peak,
        "rss_after_deactivation_mb": round(after, 1),
    }


async def capped_rss(n: int) -> dict[str, Any]:
    cap = max(1, n // 10)
    runtime = SingleThreadedAgentRuntime(max_live_per_type=cap)
    await runtime.register_factory("session", Session)
    runtime.start()
    gc.collect()
    baseline = rss_mb()
    start = time.perf_counter()
    samples = []
    for i in range(n):
        await runtime.send_message(Touch(1), AgentId("session", f"user-{i}"))
        if i % (n // 10) == n // 10 - 1:
            samples.append(round(rss_mb(), 1))
    elapsed = time.perf_counter() - start
    live = len(runtime._activations)
    await runtime.close()
    return {
        "agents": n,
        "cap": cap,
        "agents_per_s": round(n / elapsed),
        "live_at_end": live,
        "rss_baseline_mb": round(baseline, 1),
        "rss_every_tenth_mb": samples,
    }


SCENARIOS = {
    "churn_sqlite": (churn_sqlite, 20_000),
    "idle_rss": (idle_rss, 100_000),
    "capped_rss": (capped_rss, 1_000_000),
}


def main() -> None:
    parser = argparse.ArgumentParser(description="virtual-actor lifecycle benchmark")
    parser.add_argument("--scenarios", default="all", help=f"comma-separated: {', '.join(SCENARIOS)}, or all")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every default n")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: run one scenario in this process
    args = parser.parse_args()
    if args.run:
        function, n = SCENARIOS[args.run]
        print(json.dumps(asyncio.run(function(max(10, int(n * args.scale))))))
        return
    names = list(SCENARIOS) if args.scenarios == "all" else args.scenarios.split(",")
    for name in names:
        result = subprocess.run(
            [sys.executable, __file__, "--run", name, "--scale", str(args.scale)],
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"{name:14} {result.stdout.strip()}")


if __name__ == "__main__":
    main()
