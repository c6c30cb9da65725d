"""Every sample runs as a user would run it: a separate Python process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_sample(name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "samples" / name)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_hello_world_prints_the_exchange() -> None:
    result = run_sample("hello_world.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "my_manager_agent received message: Hello World! (from the application)",
        "my_worker_agent received message: Hello World! (from my_manager_agent/default)",
        "my_manager_agent received response: OK, Got it! (from my_worker_agent/worker)",
    ]
    assert result.stderr == ""


def test_tool_agent_sample_runs_offline_and_uses_the_tool() -> None:
    result = run_sample("tool_agent_offline.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "user: What is the weather in Lisbon?"
    assert "It is 21 degrees and sunny in Lisbon." in result.stdout  # the tool really ran
    assert lines[-1] == "assistant: The weather in Lisbon: 21 degrees and sunny."
