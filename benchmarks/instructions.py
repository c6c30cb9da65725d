#!/usr/bin/env python3
"""CPU instructions per delivery, counted by valgrind: a figure the VM's speed does not move.

    uv run python benchmarks/instructions.py
    uv run python benchmarks/instructions.py --reference-python /path/to/venv/bin/python

Wall-clock throughput on a shared VM drifts by 30-50 % within minutes (see RESULTS.md);
instruction counts do not. Each scenario runs twice under ``valgrind --tool=callgrind``,
with n and 3n operations after the same set-up, and the difference in instructions
executed, divided by the difference in operations, is the cost of one operation with
start-up, imports and set-up taken out. The scenarios use only the public API, so
``--reference-python`` (an interpreter with autogen-core installed) runs the very same code
against autogen-core and the table shows both and the ratio.

Instructions are not time (cache misses and branch mispredictions are not counted) but they
track the Python work done per operation, which is what the hot path consists of. Needs
valgrind (``apt install valgrind``); a run takes a minute or two per library.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

SCENARIOS: dict[str, dict[str, int]] = {
    # n: publishes (10 subscriber types each) or requests
    "fanout_delivery": {"n": 300, "subscribers": 10},
    "rpc": {"n": 1000},
}
COLLECTED = re.compile(r"Collected : (\d+)")


async def child(impl: str, scenario: str, n: int) -> None:
    """Run ``n`` operations of ``scenario`` after a fixed set-up (this process is the one counted)."""
    import _scenarios
    from _scenarios import BODY_LEN, Collector, Ping, Tick, make_agents

    lib = _scenarios.load_library(impl)
    st = Collector()
    agents = make_agents(lib, st)
    runtime = lib.SingleThreadedAgentRuntime()
    body = "x" * BODY_LEN
    if scenario == "fanout_delivery":
        for i in range(SCENARIOS[scenario]["subscribers"]):
            agent_type = f"sub_{i}"
            await agents.CountingSubscriber.register(
                runtime, agent_type, agents.CountingSubscriber, skip_class_subscriptions=True
            )
            await runtime.add_subscription(lib.TypeSubscription(topic_type="fan", agent_type=agent_type))
        topic = lib.TopicId("fan", "default")
        runtime.start()
        for i in range(20):  # set-up, the same for every n: creates the agents, warms caches
            await runtime.publish_message(Tick(seq=-1 - i, body=body), topic)
        await runtime.stop_when_idle()
        runtime.start()
        for i in range(n):
            await runtime.publish_message(Tick(seq=i, body=body), topic)
        await runtime.stop_when_idle()
    else:
        await agents.ReceiverAgent.register(runtime, "recv", agents.ReceiverAgent)
        recipient = lib.AgentId("recv", "default")
        runtime.start()
        for i in range(20):
            await runtime.send_message(Ping(seq=i, body=body), recipient)
        for i in range(n):
            await runtime.send_message(Ping(seq=i, body=body), recipient)
        await runtime.stop_when_idle()


def count(python: str, impl: str, scenario: str, n: int) -> int:
    """Instructions executed by one child run under callgrind."""
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", python, os.path.abspath(__file__)]
    argv += ["--_child", impl, scenario, str(n)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False)
    found = COLLECTED.findall(done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"{impl} {scenario} n={n} failed (status {done.returncode}):\n{done.stderr[-2000:]}")
    return int(found[-1])


def per_operation(python: str, impl: str, scenario: str) -> float:
    cfg = SCENARIOS[scenario]
    n = cfg["n"]
    ops_per_n = cfg.get("subscribers", 1)
    low = count(python, impl, scenario, n)
    high = count(python, impl, scenario, 3 * n)
    return (high - low) / (2 * n * ops_per_n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference-python", help="also count autogen-core, installed for this interpreter")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated: " + ", ".join(SCENARIOS))
    parser.add_argument("--_child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._child:
        impl, scenario, n = args._child
        asyncio.run(child(impl, scenario, int(n)))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt install valgrind); nothing measured", file=sys.stderr)
        return 2
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    rows: list[tuple[str, float, Any]] = []
    for scenario in scenarios:
        print(f"counting {scenario} (actorgen) ...", file=sys.stderr, flush=True)
        ours = per_operation(sys.executable, "actorgen", scenario)
        theirs = None
        if args.reference_python:
            print(f"counting {scenario} (autogen-core) ...", file=sys.stderr, flush=True)
            theirs = per_operation(args.reference_python, "autogen", scenario)
        rows.append((scenario, ours, theirs))
    print(f"Python {sys.version.split()[0]}; instructions per operation (valgrind callgrind)")
    print(f"{'scenario':<18} {'actorgen':>12} {'autogen-core':>14} {'reference / ours':>18}")
    for scenario, ours, theirs in rows:
        ref = f"{theirs:,.0f}" if theirs is not None else "-"
        ratio = f"{theirs / ours:.1f}x" if theirs is not None else "-"
        print(f"{scenario:<18} {ours:>12,.0f} {ref:>14} {ratio:>18}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
