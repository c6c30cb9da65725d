"""Smoke test of benchmarks/lifecycle_bench.py: every scenario runs with tiny sizes and reports
what it promises. Never asserts on speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "lifecycle_bench.py"


def test_every_lifecycle_scenario_runs_with_tiny_sizes() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--scale", "0.002"], capture_output=True, text=True, timeout=100, check=False
    )
    assert result.returncode == 0, result.stderr
    reports = {line.split()[0]: json.loads(line.split(maxsplit=1)[1]) for line in result.stdout.splitlines()}
    assert set(reports) == {"churn_sqlite", "idle_rss", "capped_rss"}
    assert reports["churn_sqlite"]["agents"] == 40
    assert reports["capped_rss"]["live_at_end"] == reports["capped_rss"]["cap"] == 200
    assert reports["idle_rss"]["rss_after_deactivation_mb"] > 0
