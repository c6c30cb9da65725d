"""Nested chats, and code execution through the local executor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actorgen_agentchat import AssistantAgent, ConversableAgent, GroupChat, GroupChatManager, UserProxyAgent

from ..ext.fake_openai_server import FakeOpenAIServer
from .conftest import llm_config, say


def plain(name: str, reply: str = "", **kwargs: Any) -> ConversableAgent:
    kwargs.setdefault("human_input_mode", "NEVER")
    return ConversableAgent(name, llm_config=False, default_auto_reply=reply, **kwargs)


def test_nested_chats_reply_with_the_last_summary_and_pass_carryover() -> None:
    user, outer = plain("user", "thanks"), plain("outer", "unused")
    critic, writer = plain("critic", "critique done"), plain("writer", "final text")
    outer.register_nested_chats(
        [
            {"recipient": critic, "max_turns": 1, "silent": True},
            {
                "recipient": writer,
                "max_turns": 1,
                "silent": True,
                "message": lambda recipient, messages, sender, config: f"rewrite: {messages[-1]['content']}",
            },
        ],
        trigger=user,
    )
    result = user.initiate_chat(outer, message="draft", max_turns=1, silent=True)
    assert [m["content"] for m in result.chat_history] == ["draft", "final text"]
    # The first nested message is the outer message; the second gets the first's summary as carryover.
    assert critic.chat_messages[outer][0]["content"] == "draft"
    assert writer.chat_messages[outer][0]["content"] == "rewrite: draft\nContext:\ncritique done"


def test_nested_chat_trigger_only_matches_its_sender() -> None:
    user, other, outer, inner = plain("user"), plain("other"), plain("outer", "direct"), plain("inner", "nested")
    outer.register_nested_chats([{"recipient": inner, "max_turns": 1, "silent": True}], trigger="user")
    assert user.initiate_chat(outer, message="x", max_turns=1, silent=True).summary == "nested"
    assert other.initiate_chat(outer, message="x", max_turns=1, silent=True).summary == "direct"


def test_a_nested_group_chat_inside_a_two_agent_chat() -> None:
    user, lead = plain("user"), plain("lead", "lead here")
    a, b = plain("a", "a here"), plain("b", "b here")
    groupchat = GroupChat(agents=[lead, a, b], max_round=3, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False)
    lead.register_nested_chats([{"recipient": manager, "silent": True}], trigger=user)
    result = user.initiate_chat(lead, message="plan it", max_turns=1, silent=True)
    assert [m["name"] for m in groupchat.messages] == ["lead", "a", "b"]
    assert result.summary == "b here"


def test_a_sync_reply_function_may_start_a_chat_itself() -> None:
    user, outer, helper = plain("user"), plain("outer"), plain("helper", "helped")

    def ask_helper(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        inner = recipient.initiate_chat(helper, message="help?", max_turns=1, silent=True)
        return True, f"helper said: {inner.summary}"

    outer.register_reply([ConversableAgent], ask_helper)
    result = user.initiate_chat(outer, message="go", max_turns=1, silent=True)
    assert result.summary == "helper said: helped"


def test_code_blocks_run_and_the_reply_reports_exit_code_and_output(tmp_path: Path, server: FakeOpenAIServer) -> None:
    say(
        server,
        "Run this:\n```python\n# filename: hello.py\nprint('hello from python')\n```",
        "And this:\n```sh\necho from shell; exit 3\n```",
        "No code here.",
        "Bye.",
    )
    assistant = AssistantAgent("assistant", llm_config=llm_config(server))
    runner = UserProxyAgent(
        "runner",
        human_input_mode="NEVER",
        code_execution_config={"work_dir": str(tmp_path), "use_docker": False},
        default_auto_reply="nothing to run",
    )
    result = runner.initiate_chat(assistant, message="go", max_turns=4, silent=True)
    replies = [m["content"] for m in result.chat_history if m["role"] == "assistant"]
    assert replies[1] == "exitcode: 0 (execution succeeded)\nCode output: hello from python\n"
    assert replies[2].startswith("exitcode: 3 (execution failed)\nCode output: from shell")
    assert (tmp_path / "hello.py").read_text().strip().endswith("print('hello from python')")
    # The third answer has no code: the runner falls through to its default reply.
    assert replies[3] == "nothing to run"
    assert len(result.chat_history) == 8


def test_docker_is_refused_with_a_clear_error() -> None:
    import pytest

    with pytest.raises(ValueError, match="use_docker"):
        UserProxyAgent("u", code_execution_config={"use_docker": True})
