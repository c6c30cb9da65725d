"""Smoke tests of benchmarks/runtime_bench.py: it runs, reports every scenario, and reports failures.

These run the script in subprocesses with tiny sizes. They never assert on speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "runtime_bench.py"
SCENARIOS = (
    "rpc_seq",
    "rpc_concurrent",
    "publish_fanout",
    "lazy_create",
    "grpc_rpc",
    "grpc_rpc_concurrent",
    "grpc_publish",
)


def run_script(*args: str, timeout: float = 100.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_every_scenario_runs_with_tiny_sizes(tmp_path: Path) -> None:
    out = tmp_path / "runs.jsonl"
    proc = run_script("--n-scale", "0.01", "--timeout", "60", "--json", str(out))

    assert proc.returncode == 0, proc.stderr
    assert "ERROR" not in proc.stderr
    assert "FAILED" not in proc.stdout
    for name in SCENARIOS:
        assert name in proc.stdout
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    runs = {line["scenario"]: line for line in lines if line["kind"] == "run"}
    assert set(runs) == set(SCENARIOS)
    for name, line in runs.items():
        assert "error" not in line, (name, line)
        assert line["impl"] == "actorgen"
        assert line["impl_version"].startswith("actorgen-core")
        assert line["ops_per_s"] > 0
        assert "stderr_anomalies" not in line, (name, line["stderr_anomalies"])
    # the scaled sizes of the default shapes: every counted operation happened
    assert runs["rpc_seq"]["ops"] == 200
    assert runs["rpc_concurrent"]["ops"] == 200
    assert runs["rpc_concurrent"]["receivers"] == 100
    assert runs["publish_fanout"]["ops"] == 20 * 100
    assert runs["lazy_create"]["ops"] == 200
    assert runs["grpc_rpc"]["ops"] == 20
    assert runs["grpc_rpc_concurrent"]["ops"] == 20
    assert runs["grpc_publish"]["ops"] == 20 * 10
    medians = [line for line in lines if line["kind"] == "median"]
    assert {m["scenario"] for m in medians} == set(SCENARIOS)
    assert all(m["runs_ok"] == 1 and m["runs_failed"] == 0 for m in medians)


@pytest.mark.parametrize(
    ("fault", "timeout", "expected"),
    [
        ("hang", "2", "timeout after 2 s in phase fault:hang"),  # the scenario's own timeout fires
        ("block", "2", "hard timeout"),  # the event loop is blocked: the driver kills the process group
        # raises at once; a generous timeout so that a slow import on a loaded machine is not
        # mistaken for the failure under test
        ("raise", "20", "RuntimeError: injected failure"),
    ],
)
def test_failures_are_reported_not_hung_on(fault: str, timeout: str, expected: str) -> None:
    started = time.monotonic()
    proc = run_script("--scenarios", "rpc_seq", "--n", "10", "--timeout", timeout, "--_fault", fault, timeout=90)

    assert proc.returncode == 1
    assert expected in proc.stderr
    assert "1 FAILED" in proc.stdout
    assert time.monotonic() - started < 45
