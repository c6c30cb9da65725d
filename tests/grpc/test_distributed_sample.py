"""samples/distributed/run_all.py runs as a user would run it and shows the whole exchange."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_run_all_shows_the_exchange_across_three_processes() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "samples" / "distributed" / "run_all.py")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "application received: OK, Got it!",
        "[manager process] my_manager_agent received message: Hello World! (from the application)",
        "[manager process] my_manager_agent received response: OK, Got it! (from my_worker_agent/worker)",
        "[manager process] listener_a/all heard: the cluster is up",
        "[worker process] my_worker_agent received message: Hello World! (from my_manager_agent/default)",
        "[worker process] listener_b/all heard: the cluster is up",
    ]
