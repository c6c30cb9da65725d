#!/usr/bin/env python3
"""In-process runtime benchmark for actorgen, optionally side by side with autogen-core.

    uv run python benchmarks/runtime_bench.py                       # actorgen, every scenario once
    uv run python benchmarks/runtime_bench.py --repeat 3 --reference-python /path/to/venv/bin/python

Every scenario run is a fresh process (own process group, bounded in time). With
``--reference-python`` the same script also runs under that interpreter against
``autogen_core``, interleaved with the actorgen runs, and the table shows both and the
ratios (ours / reference). Progress goes to stderr, the table to stdout, and ``--json
FILE`` appends one JSON line per run plus the medians and ratios. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

SELF = os.path.abspath(__file__)
HERE = os.path.dirname(SELF)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

SCENARIOS: dict[str, dict[str, Any]] = {
    # n: RPCs (rpc_*), messages published (publish_fanout; ops = n * subscribers), agents (lazy_create)
    "rpc_seq": {"n": 20000, "unit": "RPC", "concurrency": 1, "warmup": 500},
    "rpc_concurrent": {"n": 20000, "unit": "RPC", "concurrency": 100, "warmup": 500},
    "publish_fanout": {"n": 2000, "unit": "delivery", "subscribers": 100, "warmup": 20},
    "lazy_create": {"n": 20000, "unit": "agent", "warmup": 1000},
    # distributed: host and receiving worker in their own processes (see _grpc_scenarios.py)
    "grpc_rpc": {"n": 2000, "unit": "RPC", "kind": "rpc", "concurrency": 1, "warmup": 100},
    "grpc_rpc_concurrent": {"n": 2000, "unit": "RPC", "kind": "rpc", "concurrency": 50, "warmup": 100},
    "grpc_publish": {"n": 2000, "unit": "delivery", "kind": "publish", "warmup": 20},
}

GOALS: dict[str, float] = {
    "rpc_seq": 10.0,
    "rpc_concurrent": 10.0,
    "publish_fanout": 10.0,
    "lazy_create": 5.0,
    "grpc_rpc": 5.0,
    "grpc_rpc_concurrent": 10.0,
    "grpc_publish": 10.0,
}
"""Throughput goals (ours / reference) of issue #2 (in-process) and issue #8 (gRPC); lazy_create
also must not use more memory per agent."""

RESULT_MARK = "@@bench-result "
ERROR_MARK = "@@bench-error "


def hard_timeout(timeout: float) -> float:
    """The driver kills a scenario process group this long after start (scenario timeout plus slack)."""
    return timeout + min(30.0, 5.0 + timeout)


ACTIVE: list[subprocess.Popen[str]] = []

MEDIAN_FIELDS = (
    "ops",
    "seconds",
    "ops_per_s",
    "p50_us",
    "p99_us",
    "mean_us",
    "max_us",
    "cpu_s",
    "peak_rss_mb",
    "publishes_per_s",
    "bytes_per_agent",
    "rss_delta_mb",
    "existing_agent_rpc_p50_us",
    "foreign_cores",
    "calibration_ns",
)


# =========================================================================== small helpers
def log(msg: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def machine_busy_s() -> float:
    """CPU-seconds all cores spent busy since boot (/proc/stat); 0 where unavailable."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    return busy / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU-seconds of this driver and its reaped children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def source_revision() -> str | None:
    """Git commit of the checkout this script lives in, "+dirty" when packages/ has local changes."""
    try:
        head = subprocess.run(
            ["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", HERE, "status", "--porcelain", "--", "../packages"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def stderr_anomalies(text: str) -> list[str]:
    """Lines of a scenario's stderr that look like errors or warnings."""
    keys = ("Traceback", "Error", "Exception", "Warning", "WARNING", "ERROR")
    found: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if any(k in line for k in keys) and line[:300] not in found:
            found.append(line[:300])
            if len(found) >= 5:
                break
    return found


def kill_group(p: subprocess.Popen[str]) -> None:
    """SIGKILL the process group of a scenario process that has not been reaped yet."""
    if p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGKILL)  # the scenario process leads its own session
    except (ProcessLookupError, PermissionError):
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def on_signal(signum: int, _frame: Any) -> None:
    for p in list(ACTIVE):
        kill_group(p)
    sys.exit(128 + signum)


# =========================================================================== scenario process
def child_main(a: argparse.Namespace) -> int:
    """Entry point of a scenario process: run one scenario, print one marked JSON line."""
    import traceback

    import _scenarios

    try:
        if a._probe:
            res = _scenarios.describe(a._impl)
        else:
            res = _scenarios.run_scenario(a._child, a._impl, json.loads(a._cfg), a.timeout, a._profile, a._fault)
    except BaseException as e:  # reported, never hidden
        err = {"error": f"{type(e).__name__}: {e}", "phase": _scenarios.PHASE[0]}
        if not isinstance(e, TimeoutError):
            err["traceback"] = traceback.format_exc()[-2000:]
        sys.stdout.write(ERROR_MARK + json.dumps(err) + "\n")
        sys.stdout.flush()
        return 3
    sys.stdout.write(RESULT_MARK + json.dumps(res) + "\n")
    sys.stdout.flush()
    return 0


def child_argv(python: str, impl: str, extra: list[str], timeout: float) -> list[str]:
    return [python, SELF, "--_impl", impl, "--timeout", str(timeout), *extra]


def run_process(argv: list[str], hard_timeout: float) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Run a scenario process; returns (result or None, facts: error, stderr anomalies, wall, foreign CPU)."""
    busy0, own0 = machine_busy_s(), own_cpu_s()
    t0 = time.monotonic()
    p = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    ACTIVE.append(p)
    facts: dict[str, Any] = {}
    try:
        try:
            out, err = p.communicate(timeout=hard_timeout)
        except subprocess.TimeoutExpired:
            kill_group(p)
            out, err = p.communicate()
            facts["error"] = f"hard timeout after {hard_timeout:g} s: scenario process group killed"
    finally:
        kill_group(p)
        ACTIVE.remove(p)
    wall = time.monotonic() - t0
    foreign = max(0.0, (machine_busy_s() - busy0) - (own_cpu_s() - own0))
    facts["wall_s"] = round(wall, 2)
    facts["foreign_cores"] = round(foreign / wall, 2) if wall > 0 else None
    result = None
    for line in out.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
        elif line.startswith(ERROR_MARK):
            reported = json.loads(line[len(ERROR_MARK) :])
            phase_note = f"phase {reported['phase']}"
            facts["error"] = (
                reported["error"] if phase_note in reported["error"] else f"{reported['error']} ({phase_note})"
            )
            if reported.get("traceback"):
                facts["traceback"] = reported["traceback"]
    if result is None and "error" not in facts:
        tail = " | ".join(err.strip().splitlines()[-8:])
        facts["error"] = f"scenario process exited with status {p.returncode} without a result; stderr: {tail}"
    anomalies = stderr_anomalies(err)
    if anomalies:
        facts["stderr_anomalies"] = anomalies
    return result, facts


# =========================================================================== driver
class Impl:
    """One library under test: which interpreter runs it and which module it imports."""

    def __init__(self, label: str, python: str, impl: str) -> None:
        self.label = label
        self.python = python
        self.impl = impl
        self.version = "?"
        self.python_version = "?"


def probe(impl: Impl, timeout: float) -> str | None:
    """Check the interpreter can import the library; fills version fields; returns an error."""
    argv = child_argv(impl.python, impl.impl, ["--_probe"], timeout)
    try:
        result, facts = run_process(argv, timeout)
    except OSError as e:
        return f"cannot run {impl.python}: {e}"
    if result is None:
        return facts.get("error", "probe failed")
    impl.version = result["impl_version"]
    impl.python_version = result["python"]
    return None


def scenario_cfg(name: str, a: argparse.Namespace) -> dict[str, Any]:
    cfg = dict(SCENARIOS[name])
    if a.n is not None:
        cfg["n"] = a.n
    elif a.n_scale != 1.0:
        cfg["n"] = max(1, round(cfg["n"] * a.n_scale))
    return cfg


def wait_quiet(max_wait: float, threshold: float) -> None:
    """Wait up to ``max_wait`` s until other processes use fewer than ``threshold`` cores."""
    end = time.monotonic() + max_wait
    while time.monotonic() < end:
        b0, c0 = machine_busy_s(), own_cpu_s()
        time.sleep(1.0)
        if max(0.0, (machine_busy_s() - b0) - (own_cpu_s() - c0)) < threshold:
            return
    log(f"  machine still busy after {max_wait:g} s; running anyway")


def run_one(name: str, cfg: dict[str, Any], impl: Impl, run: int, a: argparse.Namespace) -> dict[str, Any]:
    extra = ["--_child", name, "--_cfg", json.dumps(cfg)]
    if a._fault:
        extra += ["--_fault", a._fault]
    if a.profile_dir:
        os.makedirs(a.profile_dir, exist_ok=True)
        path = os.path.join(os.path.abspath(a.profile_dir), f"{name}.{impl.impl}.run{run}.prof")
        extra += ["--_profile", path]
    argv = child_argv(impl.python, impl.impl, extra, a.timeout)
    attempts: list[dict[str, Any]] = []
    for _ in range(1 + max(0, a.retries)):
        if a.wait_quiet > 0:
            wait_quiet(a.wait_quiet, a.quiet_threshold)
        result, facts = run_process(argv, hard_timeout(a.timeout))
        line = {"impl": impl.label, "scenario": name, "n": cfg["n"], "unit": cfg["unit"], "run": run}
        if impl.impl == "actorgen":
            line["source_revision"] = a.revision
        line.update(result or {})
        line.update(facts)
        attempts.append(line)
        disturbed = a.max_foreign_cores is not None and (line["foreign_cores"] or 0.0) > a.max_foreign_cores
        if "error" in line or not disturbed:
            break
        log(f"  disturbed: other processes used {line['foreign_cores']} cores; running again")
    best = attempts[-1] if "error" in attempts[-1] else min(attempts, key=lambda x: x["foreign_cores"] or 0.0)
    best["attempts"] = len(attempts)
    return best


def median_line(name: str, impl: Impl, runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    out: dict[str, Any] = {"kind": "median", "impl": impl.label, "impl_version": impl.version, "scenario": name}
    out["n"] = runs[0]["n"] if runs else None
    for key in MEDIAN_FIELDS:
        vals = [r[key] for r in ok if r.get(key) is not None]
        out[key] = round(statistics.median(vals), 4) if vals else None
    out["runs_ok"] = len(ok)
    out["runs_failed"] = len(runs) - len(ok)
    out["ops_per_s_all"] = [r.get("ops_per_s") for r in runs]
    out["max_foreign_cores"] = max((r.get("foreign_cores") or 0.0 for r in runs), default=None)
    return out


def ratio(ours: float | None, ref: float | None) -> float | None:
    if ours is None or ref is None or ref == 0:
        return None
    return ours / ref


def goal_lines(names: list[str], med: dict[tuple[str, str], dict[str, Any]], ours: Impl, ref: Impl) -> list[str]:
    lines: list[str] = []
    for name in names:
        m_ours, m_ref = med[(name, ours.label)], med[(name, ref.label)]
        r = ratio(m_ours["ops_per_s"], m_ref["ops_per_s"])
        goal = GOALS.get(name)
        if goal is None:
            continue
        unit = SCENARIOS[name]["unit"]
        verdict = "?" if r is None else ("MET" if r >= goal else "NOT MET")
        shown = "n/a" if r is None else f"{r:.2f}x"
        lines.append(f"  {name:<15} {unit}/s >= {goal:g}x reference: {shown:>8}  {verdict}")
        if name == "lazy_create":
            b_ours, b_ref = m_ours.get("bytes_per_agent"), m_ref.get("bytes_per_agent")
            if b_ours is None or b_ref is None:
                lines.append("  lazy_create     bytes/agent <= reference: n/a  ?")
            else:
                verdict = "MET" if b_ours <= b_ref else "NOT MET"
                if (m_ours.get("n") or 0) < 5000:
                    verdict += " (few agents: RSS moves in 4 KiB pages, so bytes/agent is rough)"
                lines.append(f"  lazy_create     bytes/agent <= reference: {b_ours:.0f} B vs {b_ref:.0f} B  {verdict}")
    return lines


ROWS: dict[str, list[tuple[str, str, str]]] = {
    # scenario: (field, label, better) rows of the table
    "rpc_seq": [
        ("ops_per_s", "RPC/s", "higher"),
        ("p50_us", "p50 latency us", "lower"),
        ("p99_us", "p99 latency us", "lower"),
    ],
    "rpc_concurrent": [
        ("ops_per_s", "RPC/s", "higher"),
        ("p50_us", "p50 latency us", "lower"),
        ("p99_us", "p99 latency us", "lower"),
        ("max_us", "max latency us", "lower"),
    ],
    "publish_fanout": [("ops_per_s", "deliveries/s", "higher"), ("publishes_per_s", "publishes/s", "higher")],
    "grpc_rpc": [
        ("ops_per_s", "RPC/s", "higher"),
        ("p50_us", "p50 latency us", "lower"),
        ("p99_us", "p99 latency us", "lower"),
    ],
    "grpc_rpc_concurrent": [
        ("ops_per_s", "RPC/s", "higher"),
        ("p50_us", "p50 latency us", "lower"),
        ("p99_us", "p99 latency us", "lower"),
    ],
    "grpc_publish": [("ops_per_s", "deliveries/s", "higher"), ("publishes_per_s", "publishes/s", "higher")],
    "lazy_create": [
        ("ops_per_s", "agents/s", "higher"),
        ("bytes_per_agent", "RSS bytes/agent", "lower"),
        ("p50_us", "first-message p50 us", "lower"),
        ("existing_agent_rpc_p50_us", "existing-agent p50 us", "lower"),
    ],
}
COMMON_ROWS = [
    ("peak_rss_mb", "peak RSS MB", "lower"),
    # not a result: the same pure-Python loop in every run; ~1.0x means both ran on an equally fast machine
    ("calibration_ns", "calibration ns/iter", "neither"),
]


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and v >= 1000:
        return f"{v:,.0f}"
    if isinstance(v, float):
        return f"{v:.1f}"
    return str(v)


def print_table(
    names: list[str], impls: list[Impl], med: dict[tuple[str, str], dict[str, Any]], a: argparse.Namespace
) -> None:
    ours, ref = impls[0], (impls[1] if len(impls) > 1 else None)
    out = sys.stdout
    out.write(f"\nRuntime benchmark: medians of {a.repeat} run(s) per scenario, each run in a fresh process\n")
    out.write(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, {platform.system()} {platform.release()}\n")
    for im in impls:
        out.write(f"{im.label:>12}: {im.version}, Python {im.python_version} ({im.python})\n")
    if a.revision:
        out.write(f"{'source':>12}: git {a.revision}\n")
    head = ["scenario", "n", "metric", ours.label]
    if ref is not None:
        head += [ref.label, "ours/ref"]
    rows: list[list[str]] = []
    for name in names:
        first = True
        for field, label, better in ROWS[name] + COMMON_ROWS:
            vo = med[(name, ours.label)].get(field)
            row = [name if first else "", str(med[(name, ours.label)]["n"]) if first else "", label, fmt(vo)]
            if ref is not None:
                vr = med[(name, ref.label)].get(field)
                r = ratio(vo, vr)
                shown = "-" if r is None else f"{r:.3g}x"
                row += [fmt(vr), shown if better == "neither" else f"{shown} ({better} is better)"]
            rows.append(row)
            first = False
        for im in impls:
            m = med[(name, im.label)]
            spread = " / ".join(fmt(v) for v in m["ops_per_s_all"])
            note = f"runs {im.label}: {spread}; max foreign cores {m['max_foreign_cores']}"
            if m["runs_failed"]:
                note += f"; {m['runs_failed']} FAILED"
            rows.append(["", "", note])
    widths = [max(len(r[i]) for r in [head, *rows] if len(r) > i and len(r) == len(head)) for i in range(len(head))]
    out.write("\n" + "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in rows:
        if len(r) == len(head):
            cells = [c.rjust(w) if i >= 3 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
            out.write("  ".join(cells).rstrip() + "\n")
        else:  # a note row
            out.write(" " * (widths[0] + widths[1] + 4) + r[2] + "\n")
    if ref is not None:
        out.write("\nGoals (issues #2 and #8), ours / reference from this run:\n")
        out.write("\n".join(goal_lines(names, med, ours, ref)) + "\n")
    out.flush()


def driver(a: argparse.Namespace) -> int:
    names = list(SCENARIOS) if a.scenarios == "all" else [s.strip() for s in a.scenarios.split(",") if s.strip()]
    unknown = [s for s in names if s not in SCENARIOS]
    if unknown:
        log(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
        return 2
    impls = [Impl("actorgen" if a.impl == "actorgen" else "autogen-core", sys.executable, a.impl)]
    if a.reference_python:
        impls.append(Impl("autogen-core", a.reference_python, "autogen"))
        if impls[0].label == impls[1].label:
            impls[0].label = "autogen-core(self)"
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for im in impls:
        err = probe(im, min(a.timeout, 120.0))
        if err:
            log(f"{im.label}: cannot use {im.python}: {err}")
            return 2
        log(f"{im.label}: {im.version}, Python {im.python_version}, {im.python}")
    a.revision = source_revision() if impls[0].impl == "actorgen" else None
    log(f"machine: nproc={os.cpu_count()}, {cpu_model()}; source: git {a.revision}")
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {(n, im.label): [] for n in names for im in impls}
    failed = 0
    json_out = open(a.json, "a") if a.json else None  # closed in the finally below
    try:
        for r in range(1, a.repeat + 1):
            for name in names:
                cfg = scenario_cfg(name, a)
                for im in impls:  # interleaved, so a disturbance hits both libraries alike
                    log(f"run {r}/{a.repeat} {name} n={cfg['n']} [{im.label}]")
                    line = run_one(name, cfg, im, r, a)
                    line["kind"] = "run"
                    runs[(name, im.label)].append(line)
                    if "error" in line:
                        failed += 1
                        log(f"  ERROR: {line['error']}")
                        if line.get("traceback"):
                            sys.stderr.write(line["traceback"] + "\n")
                    else:
                        log(
                            f"  {fmt(line.get('ops_per_s'))} {cfg['unit']}/s  p50={fmt(line.get('p50_us'))}us "
                            f"p99={fmt(line.get('p99_us'))}us  foreign cores={line['foreign_cores']}  "
                            f"calibration={line.get('calibration_ns')}ns"
                        )
                    for anomaly in line.get("stderr_anomalies", []):
                        log(f"  stderr: {anomaly}")
                    if json_out:
                        json_out.write(json.dumps(line) + "\n")
                        json_out.flush()
        med = {key: median_line(key[0], next(im for im in impls if im.label == key[1]), v) for key, v in runs.items()}
        if json_out:
            for m in med.values():
                json_out.write(json.dumps(m) + "\n")
            if len(impls) > 1:
                for name in names:
                    mo, mr = med[(name, impls[0].label)], med[(name, impls[1].label)]
                    ratios = {
                        field: ratio(mo.get(field), mr.get(field))
                        for field, _label, _better in ROWS[name] + COMMON_ROWS
                    }
                    json_out.write(
                        json.dumps({"kind": "ratio", "scenario": name, "ours_over_reference": ratios}) + "\n"
                    )
        print_table(names, impls, med, a)
    finally:
        if json_out:
            json_out.close()
    if failed:
        log(f"{failed} run(s) failed")
    return 1 if failed else 0


# =========================================================================== CLI
def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="actorgen in-process runtime benchmark (see benchmarks/README.md)")
    p.add_argument("--scenarios", default="all", help="comma-separated list or 'all': " + ", ".join(SCENARIOS))
    p.add_argument("--repeat", type=int, default=1, help="runs per scenario and library (medians are reported)")
    p.add_argument("--n", type=int, default=None, help="use this n for every selected scenario")
    p.add_argument("--n-scale", type=float, default=1.0, help="multiply every default n (ignored with --n)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds one scenario run may take")
    p.add_argument(
        "--reference-python",
        default=None,
        help="also run this script under that interpreter against autogen_core and compare",
    )
    p.add_argument(
        "--impl",
        choices=("actorgen", "autogen"),
        default="actorgen",
        help="library the current interpreter measures (default actorgen)",
    )
    p.add_argument("--json", default=None, help="append one JSON line per run, medians and ratios to this file")
    p.add_argument("--profile-dir", default=None, help="write a cProfile of every timed phase into this directory")
    p.add_argument("--wait-quiet", type=float, default=0.0, help="wait up to S seconds for an idle machine per run")
    p.add_argument("--quiet-threshold", type=float, default=0.2, help="idle = other processes use fewer cores")
    p.add_argument(
        "--max-foreign-cores",
        type=float,
        default=None,
        help="run again when other processes used more cores than this during a run",
    )
    p.add_argument("--retries", type=int, default=0, help="how often a disturbed run is repeated (keeps the calmest)")
    p.add_argument("--list", action="store_true", help="list the scenarios and their defaults")
    # scenario-process arguments
    p.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--_impl", default="actorgen", help=argparse.SUPPRESS)
    p.add_argument("--_cfg", default=None, help=argparse.SUPPRESS)
    p.add_argument("--_profile", default=None, help=argparse.SUPPRESS)
    p.add_argument("--_probe", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--_fault", default=None, choices=("hang", "block", "raise"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.repeat < 1:
        p.error("--repeat must be at least 1")
    if a.timeout <= 0:
        p.error("--timeout must be positive")
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse(sys.argv[1:] if argv is None else argv)
    if a._child or a._probe:
        return child_main(a)
    if a.list:
        for name, cfg in SCENARIOS.items():
            print(f"{name:<15} {json.dumps(cfg)}")
        return 0
    return driver(a)


if __name__ == "__main__":
    sys.exit(main())
