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
