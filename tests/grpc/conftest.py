"""Real processes on 127.0.0.1: a host (the ``actorgen host`` command) and worker processes.

Every child is started in its own session, waited for with a deadline, and killed by PID
when the test ends.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from actorgen_core.application import GrpcWorkerAgentRuntime

from .agents import add_serializers

ROOT = Path(__file__).resolve().parents[2]
WORKER_APP = Path(__file__).with_name("worker_app.py")


async def until(condition: Callable[[], object], timeout: float = 20.0, poll: float = 0.01) -> None:
    """Wait, bounded, for ``condition()`` to hold; the test asserts what it needs afterwards."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(poll)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Child:
    """A child process whose stdout we read line by line (stderr goes to a file)."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._log_file = log.open("w")
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            cwd=ROOT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_line(self, prefix: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        buffer = ""
        while time.monotonic() < deadline:
            chunk = self.proc.stdout.readline()
            if chunk:
                buffer = chunk
                if chunk.startswith(prefix):
                    return chunk.strip()
                continue
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no {prefix!r} line from {self.proc.args} (last: {buffer!r}); log:\n{self.stderr()}")

    def stderr(self) -> str:
        self._log_file.flush()
        return self.log.read_text()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill(signal.SIGTERM)
        self._log_file.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class Cluster:
    """Starts hosts and workers for one test and kills them all at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.children: list[Child] = []
        self.runtimes: list[GrpcWorkerAgentRuntime] = []

    def start_host(self, port: int | None = None, *extra: str, env: dict[str, str] | None = None) -> tuple[Child, str]:
        port = free_port() if port is None else port
        args = [sys.executable, "-m", "actorgen_core.application.grpc._cli", "host", "--address", f"127.0.0.1:{port}"]
        child = self._spawn([*args, *extra], "host", env)
        line = child.wait_line("actorgen host listening on")
        return child, line.rsplit(" ", 1)[1]

    def start_worker(self, address: str, roles: str, *extra: str) -> Child:
        child = self._spawn([sys.executable, str(WORKER_APP), address, roles, *extra], f"worker-{roles}")
        child.wait_line("READY")
        return child

    def _spawn(self, args: list[str], name: str, env: dict[str, str] | None = None) -> Child:
        child = Child(args, self.tmp / f"{name}-{len(self.children)}.log", env)
        self.children.append(child)
        return child

    def worker(self, address: str, **kwargs: Any) -> GrpcWorkerAgentRuntime:
        """A worker in the test process itself (its agents are the test's own)."""
        runtime = GrpcWorkerAgentRuntime(address, **{"connect_timeout": 10, **kwargs})
        add_serializers(runtime)
        self.runtimes.append(runtime)
        return runtime

    async def aclose(self) -> None:
        for runtime in self.runtimes:
            if runtime._connection_task is not None:
                await runtime.stop(grace=0.5)

    def close(self) -> None:
        for child in self.children:
            child.close()


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        try:
            await c.aclose()
        finally:
            c.close()
