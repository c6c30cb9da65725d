"""Every sample runs as a user would run it: a separate Python process."""

from __future__ import annotations

import os
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


def test_shopping_cart_sample_keeps_state_and_reminders_across_a_restart() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "samples" / "shopping_cart.py"), "--virtual"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "alice: cart activated with 0 item(s)",
        "bob: cart activated with 0 item(s)",
        "bob: bought a pen",
        "bob: thank you for your order",
        "alice: cart deactivated",
        "bob: cart deactivated",
        "-- the process stops before alice's reminder is due",
        "-- a new process starts on the same database",
        "alice: cart activated with 1 item(s)",  # state from the database, woken by the reminder
        "alice: reminder: you left a book in your cart",
        "alice: cart deactivated",
    ]
    assert result.stderr == ""


def test_tool_agent_sample_runs_offline_and_uses_the_tool() -> None:
    result = run_sample("tool_agent_offline.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "user: What is the weather in Lisbon?"
    assert "It is 21 degrees and sunny in Lisbon." in result.stdout  # the tool really ran
    assert lines[-1] == "assistant: The weather in Lisbon: 21 degrees and sunny."


# -- agentchat: offline by default (OPENAI_API_KEY removed so that CI never reaches a real server) --


def run_agentchat_sample(name: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "OPENAI_API_KEY"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "samples" / "agentchat" / name)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_agentchat_chatbot_answers_with_generate_reply() -> None:
    lines = run_agentchat_sample("chatbot.py").stdout.splitlines()
    assert lines == [
        "user: Hi! What is an actor, in one sentence?",
        "chatbot: Hello! An actor is an object that only talks to the world through messages.",
    ]


def test_agentchat_comedians_trade_jokes_for_two_turns() -> None:
    out = run_agentchat_sample("comedians.py").stdout
    assert out.count("joe → cathy:") == 2 and out.count("cathy → joe:") == 2
    assert "turns: 2, ended because: max_turns reached (2)" in out
    assert out.splitlines()[-1] == "summary: Deadlock: my ex."


def test_agentchat_group_chat_round_robin_then_auto() -> None:
    out = run_agentchat_sample("group_chat.py").stdout
    assert (
        "round_robin speakers: ['planner', 'critic', 'budget']; "
        "ended because: chat_manager received a termination message from budget"
    ) in out
    assert "auto speakers: ['planner', 'critic', 'planner', 'budget']; ended because: max_round reached (4)" in out


def test_agentchat_tool_use_runs_the_registered_function() -> None:
    out = run_agentchat_sample("tool_use.py").stdout
    assert '[tool call call-1] currency_rate({"base": "EUR", "quote": "USD"})' in out
    assert "[tool result call-1] 1.08" in out  # the function really ran, in the user proxy
    assert out.splitlines()[-2:] == [
        "ended because: user received a termination message",
        "answer: 100 EUR is 108.00 USD.",
    ]


def test_agentchat_nested_chat_answers_with_the_nested_summary() -> None:
    out = run_agentchat_sample("nested_chat.py").stdout
    assert "reviewer_front → critic:\nPlease review this slogan: Actors: message passing, not stress passing." in out
    assert out.splitlines()[-1] == "final slogan: No shared state, no shared stress: use actors."


def test_agentchat_comedians_split_over_two_grpc_workers() -> None:
    out = run_agentchat_sample("comedians_grpc.py").stdout
    here, there = out.split("--- what Cathy's process printed ---\n")
    assert here.count("cathy → joe:") == 2 and "joe → cathy:" not in here
    assert "turns: 2, ended because: max_turns reached (2)" in here
    assert there.count("joe → cathy:") == 2 and "cathy → joe:" not in there
    assert "Cathy, a joke?" in there
