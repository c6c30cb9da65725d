"""Start a host and two workers on 127.0.0.1, send the hello-world request, publish one
announcement, and show what every process printed.

    uv run python samples/distributed/run_all.py

What happens: the application (this script, itself a worker) asks my_manager_agent (in
the "manager" process) to handle "Hello World!"; the manager asks my_worker_agent (in the
"worker" process) and returns its answer. Then the application publishes to the topic
"news", to which one listener in each worker process subscribes.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from agents import Announcement, MyMessageType

from actorgen_core import AgentId, TopicId
from actorgen_core.application import GrpcWorkerAgentRuntime

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True
    )


async def read_until(proc: subprocess.Popen[str], wanted: str, lines: list[str], timeout: float = 20.0) -> None:
    """Collect proc's output lines until one contains ``wanted``."""
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            lines.append(line.rstrip("\n"))
            if wanted in line:
                return
        elif proc.poll() is not None:
            break
        else:
            await asyncio.sleep(0.02)
    raise RuntimeError(f"{proc.args!r} did not print {wanted!r} in time; got {lines}")


async def main() -> None:
    address = f"127.0.0.1:{free_port()}"
    host = spawn("-m", "actorgen_core.application.grpc._cli", "host", "--address", address, "--log-level", "WARNING")
    children = [host]
    output: dict[str, list[str]] = {"manager": [], "worker": []}
    try:
        await read_until(host, "listening", [])
        workers = {role: spawn(str(HERE / "worker.py"), role, "--host", address) for role in output}
        children += workers.values()
        for proc in workers.values():
            await read_until(proc, "READY", [])

        app = GrpcWorkerAgentRuntime(host_address=address, worker_name="application")
        await app.start()
        reply = await app.send_message(MyMessageType("Hello World!"), AgentId("my_manager_agent", "default"))
        await app.publish_message(Announcement("the cluster is up"), TopicId("news", "all"))
        await read_until(workers["manager"], "heard", output["manager"])
        await read_until(workers["worker"], "heard", output["worker"])
        await app.stop()
    finally:
        for proc in children:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in children:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
    print(f"application received: {reply.content}")
    for role, lines in output.items():
        for line in lines:
            print(f"[{role} process] {line}")


if __name__ == "__main__":
    asyncio.run(main())
