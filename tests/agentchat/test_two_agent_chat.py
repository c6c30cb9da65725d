"""Two-agent chats: messages, turns, termination, human input, summaries, carryover."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import actorgen_agentchat
from actorgen_agentchat import AssistantAgent, ChatResult, ConversableAgent, UserProxyAgent, initiate_chats
from actorgen_core import SingleThreadedAgentRuntime

from ..ext.fake_openai_server import FakeOpenAIServer, Reply, completion
from .conftest import KEY, Human, llm_config, say


def plain(name: str, reply: str = "", **kwargs: Any) -> ConversableAgent:
    kwargs.setdefault("human_input_mode", "NEVER")
    return ConversableAgent(name, llm_config=False, default_auto_reply=reply, **kwargs)


def contents(result: ChatResult) -> list[str]:
    return [m["content"] for m in result.chat_history]


def test_public_names() -> None:
    for name in (
        "Agent",
        "ConversableAgent",
        "AssistantAgent",
        "UserProxyAgent",
        "GroupChat",
        "GroupChatManager",
        "ChatResult",
        "initiate_chats",
        "register_function",
    ):
        assert name in actorgen_agentchat.__all__
        assert hasattr(actorgen_agentchat, name)


def test_max_turns_counts_round_trips_and_history_is_from_the_initiators_view() -> None:
    alice, bob = plain("alice", "from alice"), plain("bob", "from bob")
    result = alice.initiate_chat(bob, message="hello", max_turns=2, silent=True)
    assert result.chat_history == [
        {"content": "hello", "role": "assistant", "name": "alice"},
        {"content": "from bob", "role": "user", "name": "bob"},
        {"content": "from alice", "role": "assistant", "name": "alice"},
        {"content": "from bob", "role": "user", "name": "bob"},
    ]
    assert [m["role"] for m in bob.chat_messages[alice]] == ["user", "assistant", "user", "assistant"]
    assert result.stop_reason == "max_turns reached (2)"
    assert result.summary == "from bob"


def test_messages_are_printed_unless_silent(capsys: pytest.CaptureFixture[str]) -> None:
    alice, bob = plain("alice", "x"), plain("bob", "pong")
    alice.initiate_chat(bob, message="ping", max_turns=1)
    out = capsys.readouterr().out
    assert "alice → bob:\nping" in out and "bob → alice:\npong" in out
    alice.initiate_chat(bob, message="ping", max_turns=1, silent=True)
    assert capsys.readouterr().out == ""


def test_termination_message_must_equal_terminate_by_default() -> None:
    alice = plain("alice", "go on")
    bob = ConversableAgent("bob", llm_config=False, human_input_mode="NEVER")
    replies = iter(["TERMINATE please", "TERMINATE"])
    bob.register_reply([ConversableAgent, None], lambda r, messages, sender, config: (True, next(replies)))
    result = alice.initiate_chat(bob, message="hi", silent=True)
    assert contents(result) == ["hi", "TERMINATE please", "go on", "TERMINATE"]
    assert result.stop_reason == "alice received a termination message"
    assert result.summary == ""  # the last_msg summary drops TERMINATE


def test_custom_termination_predicate() -> None:
    alice = plain("alice", "go on", is_termination_msg=lambda m: str(m.get("content", "")).endswith("DONE"))
    bob = plain("bob", "all DONE")
    result = alice.initiate_chat(bob, message="hi", silent=True)
    assert contents(result) == ["hi", "all DONE"]
    assert "termination message" in str(result.stop_reason)


def test_max_consecutive_auto_reply_ends_a_never_chat() -> None:
    alice = plain("alice", "again", max_consecutive_auto_reply=2)
    bob = plain("bob", "sure")
    result = alice.initiate_chat(bob, message="start", silent=True)
    assert contents(result) == ["start", "sure", "again", "sure", "again", "sure"]
    assert result.stop_reason == "alice reached max_consecutive_auto_reply (2)"
    assert alice.max_consecutive_auto_reply() == 2
    alice.update_max_consecutive_auto_reply(0, bob)
    assert alice.max_consecutive_auto_reply(bob) == 0
    result = alice.initiate_chat(bob, message="start", silent=True)
    assert contents(result) == ["start", "sure"]


def test_always_asks_every_turn_and_ignores_the_limit() -> None:
    human = Human("", "", "my own words", "exit")
    alice = ConversableAgent(
        "alice", llm_config=False, human_input_mode="ALWAYS", default_auto_reply="auto", max_consecutive_auto_reply=1
    )
    alice.get_human_input = human  # type: ignore[method-assign]
    bob = plain("bob", "reply")
    result = alice.initiate_chat(bob, message="start", silent=True)
    assert contents(result) == ["start", "reply", "auto", "reply", "auto", "reply", "my own words", "reply"]
    assert len(human.prompts) == 4
    assert result.human_input == ["", "", "my own words", "exit"]
    assert result.stop_reason == "the human at alice ended the chat"


def test_terminate_mode_asks_only_at_termination_and_at_the_limit() -> None:
    human = Human("", "keep going", "")
    alice = ConversableAgent(
        "alice", llm_config=False, human_input_mode="TERMINATE", default_auto_reply="auto", max_consecutive_auto_reply=2
    )
    alice.get_human_input = human  # type: ignore[method-assign]
    bob = ConversableAgent("bob", llm_config=False, human_input_mode="NEVER")
    script = iter(["r1", "r2", "r3", "TERMINATE", "TERMINATE"])
    bob.register_reply([ConversableAgent, None], lambda r, messages, sender, config: (True, next(script)))
    result = alice.initiate_chat(bob, message="start", silent=True)
    # r1, r2: auto replies (counter 1, 2); r3: at the limit, the human presses enter -> auto reply
    # anyway; TERMINATE: the human answers; TERMINATE again: enter ends the chat.
    assert contents(result) == [
        "start",
        "r1",
        "auto",
        "r2",
        "auto",
        "r3",
        "auto",
        "TERMINATE",
        "keep going",
        "TERMINATE",
    ]
    assert len(human.prompts) == 3
    assert "limit" in human.prompts[0]
    assert result.stop_reason == "alice received a termination message"


def test_never_mode_never_asks() -> None:
    alice = plain("alice", "auto", max_consecutive_auto_reply=1)
    alice.get_human_input = Human()  # type: ignore[method-assign]  # raises if asked
    bob = plain("bob", "TERMINATE")
    assert alice.initiate_chat(bob, message="x", silent=True).human_input == []


def test_human_exit_in_terminate_mode_and_empty_answer_to_termination() -> None:
    alice = ConversableAgent("alice", llm_config=False, human_input_mode="TERMINATE")
    alice.get_human_input = Human("exit")  # type: ignore[method-assign]
    bob = plain("bob", "TERMINATE")
    result = alice.initiate_chat(bob, message="x", silent=True)
    assert result.stop_reason == "the human at alice ended the chat"


def test_a_human_who_interrupts_tool_calls_answers_each_pending_call() -> None:
    alice = ConversableAgent("alice", llm_config=False, human_input_mode="ALWAYS")
    alice.get_human_input = Human("no, stop", "exit")  # type: ignore[method-assign]
    bob = ConversableAgent("bob", llm_config=False, human_input_mode="NEVER")
    calls = {
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}},
        ],
    }
    script = iter([calls, "ok"])
    bob.register_reply([ConversableAgent, None], lambda r, messages, sender, config: (True, next(script)))
    result = alice.initiate_chat(bob, message="x", silent=True)
    answer = result.chat_history[2]
    assert answer["content"] == "no, stop"
    assert answer["tool_responses"] == [
        {"tool_call_id": "c1", "role": "tool", "content": "USER INTERRUPTED"},
        {"tool_call_id": "c2", "role": "tool", "content": "USER INTERRUPTED"},
    ]


def test_a_silent_recipient_ends_a_max_turns_chat() -> None:
    alice = plain("alice", "more")
    bob = ConversableAgent("bob", llm_config=False, human_input_mode="NEVER")
    bob.register_reply([ConversableAgent, None], lambda r, messages, sender, config: (True, None))
    result = alice.initiate_chat(bob, message="hi", max_turns=5, silent=True)
    assert contents(result) == ["hi"]
    assert result.stop_reason == "bob chose not to reply"


def test_model_request_has_system_message_then_history_from_the_agents_view(server: FakeOpenAIServer) -> None:
    say(server, "first answer", "second answer")
    assistant = AssistantAgent(
        "assistant", system_message="Be brief.", llm_config=llm_config(server, temperature=0.3, seed=7)
    )
    user = plain("user", "thanks")
    result = user.initiate_chat(assistant, message="What is 2+2?", max_turns=2, silent=True)
    assert contents(result) == ["What is 2+2?", "first answer", "thanks", "second answer"]
    body = server.requests[1].json()
    assert body["model"] == "gpt-4o"
    assert body["temperature"] == 0.3 and body["seed"] == 7
    assert [(m["role"], m.get("name")) for m in body["messages"]] == [
        ("system", None),
        ("user", "user"),
        ("assistant", "assistant"),
        ("user", "user"),
    ]
    assert body["messages"][0]["content"] == "Be brief."
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    usage = result.cost["usage_including_cached_inference"]
    assert usage["gpt-4o"]["prompt_tokens"] == 22 and usage["gpt-4o"]["completion_tokens"] == 6
    assert KEY not in repr(assistant) and KEY not in repr(assistant.client)


def test_a_failing_endpoint_hands_over_to_the_next_config_list_entry(server: FakeOpenAIServer) -> None:
    server.script(Reply(503, {"error": {"message": "overloaded"}}), Reply(200, completion("from the backup")))
    config = {
        "config_list": [
            {"model": "gpt-4o", "api_key": KEY, "base_url": server.base_url, "max_retries": 0},
            {"model": "gpt-4o-mini", "api_key": KEY, "base_url": server.base_url, "max_retries": 0},
        ],
        "cache_seed": 41,
    }
    assistant = AssistantAgent("assistant", llm_config=config)
    user = plain("user")
    result = user.initiate_chat(assistant, message="hi", max_turns=1, silent=True)
    assert contents(result) == ["hi", "from the backup"]
    assert [r.json()["model"] for r in server.requests] == ["gpt-4o", "gpt-4o-mini"]
    assert "cache_seed" not in server.requests[0].json()
    assert set(result.cost["usage_excluding_cached_inference"]) == {"total_cost", "gpt-4o-mini"}


def test_llm_config_validation() -> None:
    with pytest.raises(ValueError, match="empty"):
        ConversableAgent("a", llm_config={})
    with pytest.raises(ValueError, match="config_list"):
        ConversableAgent("a", llm_config={"config_list": []})


def test_summary_methods(server: FakeOpenAIServer) -> None:
    alice, bob = plain("alice", "x"), plain("bob", "the answer is 4 TERMINATE")
    assert alice.initiate_chat(bob, message="q", max_turns=1, silent=True).summary == "the answer is 4"
    assert alice.initiate_chat(bob, message="q", max_turns=1, silent=True, summary_method=None).summary == ""
    seen: list[Any] = []

    def summarize(sender: Any, recipient: Any, args: dict[str, Any]) -> str:
        seen.append((sender, recipient, args))
        return "custom"

    result = alice.initiate_chat(
        bob, message="q", max_turns=1, silent=True, summary_method=summarize, summary_args={"k": 1}
    )
    assert result.summary == "custom" and seen == [(alice, bob, {"k": 1})]

    say(server, "4", "They agreed on 4.")
    assistant = AssistantAgent("assistant", llm_config=llm_config(server))
    result = alice.initiate_chat(
        assistant, message="2+2?", max_turns=1, silent=True, summary_method="reflection_with_llm"
    )
    assert result.summary == "They agreed on 4."
    messages = server.requests[1].json()["messages"]
    assert messages[-1]["role"] == "system" and "outcome" in messages[-1]["content"]
    assert [m["content"] for m in messages[1:-1]] == ["2+2?", "4"]


def test_message_as_dict_callable_and_carryover() -> None:
    alice, bob = plain("alice"), plain("bob", "ok")
    result = alice.initiate_chat(
        bob, message={"content": "task"}, max_turns=1, silent=True, carryover=["fact one", "fact two"]
    )
    assert result.chat_history[0]["content"] == "task\nContext:\nfact one\nfact two"
    result = alice.initiate_chat(
        bob,
        message=lambda s, r, kw: f"{s.name} to {r.name}: {kw['carryover']}",
        max_turns=1,
        silent=True,
        carryover="c",
    )
    assert result.chat_history[0]["content"] == "alice to bob: c"


def test_sequential_chats_pass_summaries_on_and_honour_exclusions() -> None:
    alice, bob, carol, dave = (
        plain("alice"),
        plain("bob", "summary B"),
        plain("carol", "summary C"),
        plain("dave", "ok"),
    )
    results = initiate_chats(
        [
            {"sender": alice, "recipient": bob, "message": "one", "max_turns": 1, "silent": True},
            {"sender": alice, "recipient": carol, "message": "two", "max_turns": 1, "silent": True},
            {
                "sender": alice,
                "recipient": dave,
                "message": "three",
                "max_turns": 1,
                "silent": True,
                "carryover": "given",
                "finished_chat_indexes_to_exclude_from_carryover": [0],
            },
        ]
    )
    assert [r.summary for r in results] == ["summary B", "summary C", "ok"]
    assert results[1].chat_history[0]["content"] == "two\nContext:\nsummary B"
    assert results[2].chat_history[0]["content"] == "three\nContext:\ngiven\nsummary C"
    assert (
        alice.initiate_chats([{"recipient": bob, "message": "m", "max_turns": 1, "silent": True}])[0].summary
        == "summary B"
    )


def test_time_limit_ends_the_chat_with_its_reason() -> None:
    alice = plain("alice", "more")
    bob = ConversableAgent("bob", llm_config=False, human_input_mode="NEVER")

    async def slow(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> tuple[bool, str]:
        await asyncio.sleep(0.05)
        return True, "slow reply"

    bob.register_reply([ConversableAgent, None], slow)
    result = alice.initiate_chat(bob, message="go", silent=True, time_limit=0.3)
    assert result.stop_reason == "time limit of 0.3s reached"
    assert 2 <= len(result.chat_history) < 20


async def test_async_api_and_sync_api_inside_a_running_loop() -> None:
    alice, bob = plain("alice", "a"), plain("bob", "b")
    result = await alice.a_initiate_chat(bob, message="hi", max_turns=1, silent=True)
    assert contents(result) == ["hi", "b"]
    # Jupyter: a loop is running in this thread, and the synchronous API still works.
    result = alice.initiate_chat(bob, message="again", max_turns=1, silent=True)
    assert contents(result) == ["again", "b"]
    assert alice.generate_reply(messages=[{"role": "user", "content": "x"}], sender=bob) == "a"


async def test_agents_run_on_the_runtime_they_are_given() -> None:
    runtime = SingleThreadedAgentRuntime()
    alice = plain("alice", "a", runtime=runtime)
    bob = plain("bob", "b", runtime=runtime)
    result = await alice.a_initiate_chat(bob, message="hi", max_turns=2, silent=True)
    assert contents(result) == ["hi", "b", "a", "b"]
    types = {agent_id.type for agent_id in runtime._instantiated_agents}
    assert any(t.startswith("agentchat.alice") for t in types) and any(t.startswith("agentchat.bob") for t in types)
    await runtime.stop()


def test_send_and_receive_without_initiate_chat() -> None:
    alice, bob = plain("alice", "a"), plain("bob", "b")
    alice.send("no reply wanted", bob, request_reply=False, silent=True)
    assert bob.last_message(alice) == {"content": "no reply wanted", "role": "user", "name": "alice"}
    alice.send("answer once", bob, request_reply=True, silent=True)
    assert [m["content"] for m in alice.chat_messages[bob]] == ["no reply wanted", "answer once", "b"]
    with pytest.raises(ValueError, match="content"):
        alice.send({"role": "user"}, bob, silent=True)


def test_history_maintenance() -> None:
    alice, bob, carol = plain("alice", "a"), plain("bob", "b"), plain("carol", "c")
    alice.initiate_chat(bob, message="1", max_turns=2, silent=True)
    assert alice.last_message() == {"content": "b", "role": "user", "name": "bob"}
    alice.initiate_chat(carol, message="1", max_turns=1, silent=True)
    with pytest.raises(ValueError):
        alice.last_message()
    alice.clear_history(nr_messages_to_preserve=1)
    assert len(alice.chat_messages[bob]) == 1 and len(alice.chat_messages[carol]) == 1
    alice.clear_history(carol)
    assert alice.chat_messages[carol] == []
    alice.reset()
    assert not any(alice.chat_messages.values())
    assert alice.description == alice.system_message
    alice.description = "the first agent"
    alice.update_system_message("new")
    assert (alice.description, alice.system_message) == ("the first agent", "new")
    assert UserProxyAgent("u", code_execution_config=False).description.startswith("A human user")


async def test_async_chat_queue_runs_after_prerequisites_with_their_summaries() -> None:
    alice, bob, carol = plain("alice"), plain("bob", "B done"), plain("carol", "C done")
    results = await actorgen_agentchat.a_initiate_chats(
        [
            {
                "chat_id": 2,
                "sender": alice,
                "recipient": carol,
                "message": "second",
                "max_turns": 1,
                "silent": True,
                "prerequisites": [1],
            },
            {"chat_id": 1, "sender": alice, "recipient": bob, "message": "first", "max_turns": 1, "silent": True},
        ]
    )
    assert set(results) == {1, 2}
    assert results[2].chat_history[0]["content"] == "second\nContext:\nB done"
    assert results[1].chat_id == 1
    with pytest.raises(ValueError, match="prerequisites"):
        await alice.a_initiate_chats([{"chat_id": 1, "recipient": bob, "message": "x", "prerequisites": [1]}])


def test_without_a_message_the_initiator_asks_the_human() -> None:
    alice, bob = plain("alice"), plain("bob", "ok")
    human = Human("typed task")
    alice.get_human_input = human  # type: ignore[method-assign]
    result = alice.initiate_chat(bob, max_turns=1, silent=True)
    assert result.chat_history[0]["content"] == "typed task"
    assert human.prompts == [">"]


def test_code_execution_without_use_docker_warns_that_code_runs_locally() -> None:
    from actorgen_agentchat import _code

    _code._warned_local_execution = False
    with pytest.warns(UserWarning, match="not in a sandbox"):
        UserProxyAgent("u")


def test_a_model_error_ends_the_chat_by_raising_it(server: FakeOpenAIServer) -> None:
    from actorgen_ext.models.openai import BadRequestError

    server.script(Reply(400, {"error": {"message": "this request is wrong"}}))
    assistant = AssistantAgent("assistant", llm_config=llm_config(server))
    with pytest.raises(BadRequestError, match="this request is wrong"):
        plain("user").initiate_chat(assistant, message="hi", silent=True)
