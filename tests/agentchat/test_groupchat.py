"""Group chats: every selection method, the transition graph, tool routing, auto selection's retries and fallback."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from actorgen_agentchat import ConversableAgent, GroupChat, GroupChatManager

from ..ext.fake_openai_server import FakeOpenAIServer, Reply, completion, tool_call
from .conftest import Human, llm_config, say


def member(name: str, reply: str | None = None, **kwargs: Any) -> ConversableAgent:
    kwargs.setdefault("human_input_mode", "NEVER")
    return ConversableAgent(
        name, llm_config=False, default_auto_reply=reply or f"{name} speaking", description=f"{name} desc", **kwargs
    )


def speakers(groupchat: GroupChat) -> list[str]:
    return [m["name"] for m in groupchat.messages]


def test_round_robin_counts_max_round_in_messages_and_everyone_sees_every_name() -> None:
    a, b, c = member("a"), member("b"), member("c")
    groupchat = GroupChat(agents=[a, b, c], max_round=5, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False)
    result = a.initiate_chat(manager, message="start", silent=True)
    assert speakers(groupchat) == ["a", "b", "c", "a", "b"]
    assert result.stop_reason == "max_round reached (5)"
    # The initiator's view: its own messages as assistant, everyone else's as user with their names.
    assert [(m["role"], m["name"]) for m in result.chat_history] == [
        ("assistant", "a"),
        ("user", "b"),
        ("user", "c"),
        ("assistant", "a"),
        ("user", "b"),
    ]
    assert [(m["role"], m["name"]) for m in c.chat_messages[manager]] == [
        ("user", "a"),
        ("user", "b"),
        ("assistant", "c"),
        ("user", "a"),
        ("user", "b"),
    ]
    assert result.summary == "b speaking"


def test_a_termination_message_ends_the_group_after_it_was_broadcast() -> None:
    a, b, c = member("a"), member("b", "TERMINATE"), member("c")
    groupchat = GroupChat(agents=[a, b, c], max_round=10, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False)
    result = a.initiate_chat(manager, message="start", silent=True)
    assert speakers(groupchat) == ["a", "b"]
    assert c.chat_messages[manager][-1]["content"] == "TERMINATE"
    assert result.stop_reason == "chat_manager received a termination message from b"


def test_a_silent_speaker_ends_the_group() -> None:
    a, b, c = member("a"), member("b"), member("c")
    b.register_reply([ConversableAgent, None], lambda r, messages, sender, config: (True, None))
    groupchat = GroupChat(agents=[a, b, c], max_round=10, speaker_selection_method="round_robin")
    result = a.initiate_chat(GroupChatManager(groupchat, llm_config=False), message="start", silent=True)
    assert speakers(groupchat) == ["a"]
    assert result.stop_reason == "b did not speak: b chose not to reply"


def test_random_selection_uses_only_eligible_agents() -> None:
    a, b, c = member("a"), member("b"), member("c")
    groupchat = GroupChat(agents=[a, b, c], max_round=12, speaker_selection_method="random", allow_repeat_speaker=False)
    random.seed(3)
    a.initiate_chat(GroupChatManager(groupchat, llm_config=False), message="start", silent=True)
    names = speakers(groupchat)
    assert len(names) == 12 and set(names) == {"a", "b", "c"}
    assert all(x != y for x, y in itertools.pairwise(names))


def test_manual_selection_asks_the_human_and_falls_back_to_round_robin() -> None:
    a, b, c = member("a"), member("b"), member("c")
    groupchat = GroupChat(agents=[a, b, c], max_round=4, speaker_selection_method="manual")
    manager = GroupChatManager(groupchat, llm_config=False)
    human = Human("3", "wrong", "99", "q", "")
    manager.get_human_input = human  # type: ignore[method-assign]
    a.initiate_chat(manager, message="start", silent=True)
    # "3" picks c; then two bad answers and "q" give up -> round robin after c is a; "" -> b.
    assert speakers(groupchat) == ["a", "c", "a", "b"]
    assert "1: a" in human.prompts[0]


def test_callable_selection_returns_agents_method_names_or_none() -> None:
    a, b, c = member("a"), member("b"), member("c")
    calls: list[str] = []

    def choose(last: ConversableAgent, groupchat: GroupChat) -> Any:
        calls.append(last.name)
        if len(groupchat.messages) == 1:
            return c
        if len(groupchat.messages) == 2:
            return "round_robin"
        return None

    groupchat = GroupChat(agents=[a, b, c], max_round=10, speaker_selection_method=choose)
    result = a.initiate_chat(GroupChatManager(groupchat, llm_config=False), message="start", silent=True)
    assert speakers(groupchat) == ["a", "c", "a"]
    assert result.stop_reason is not None and result.stop_reason.startswith("no eligible speaker")


def test_transition_graph_single_eligible_needs_no_model_and_a_sink_ends_the_chat(server: FakeOpenAIServer) -> None:
    a, b, c = member("a"), member("b"), member("c")
    groupchat = GroupChat(
        agents=[a, b, c],
        max_round=10,
        speaker_selection_method="auto",
        allowed_or_disallowed_speaker_transitions={a: [b], b: [c], c: []},
        speaker_transitions_type="allowed",
    )
    manager = GroupChatManager(groupchat, llm_config=llm_config(server))
    result = a.initiate_chat(manager, message="start", silent=True)
    assert speakers(groupchat) == ["a", "b", "c"]
    assert server.requests == []  # every step had one eligible speaker: no model call
    assert result.stop_reason == "no eligible speaker: nobody may speak after c"


def test_disallowed_transitions_are_the_complement() -> None:
    a, b, c = member("a"), member("b"), member("c")
    groupchat = GroupChat(
        agents=[a, b, c],
        max_round=5,
        speaker_selection_method="round_robin",
        allowed_or_disallowed_speaker_transitions={a: [b, a], b: [b], c: [c]},
        speaker_transitions_type="disallowed",
    )
    a.initiate_chat(GroupChatManager(groupchat, llm_config=False), message="start", silent=True)
    assert speakers(groupchat) == ["a", "c", "a", "c", "a"]
    with pytest.raises(ValueError, match="allow_repeat_speaker"):
        GroupChat(
            agents=[a, b],
            allow_repeat_speaker=False,
            allowed_or_disallowed_speaker_transitions={a: [b]},
            speaker_transitions_type="allowed",
        )


def test_auto_selection_asks_the_model_with_names_and_descriptions(server: FakeOpenAIServer) -> None:
    a, b, c = member("a"), member("b"), member("c")
    say(server, "c", "I think b should go")
    groupchat = GroupChat(agents=[a, b, c], max_round=3, speaker_selection_method="auto")
    manager = GroupChatManager(groupchat, llm_config=llm_config(server))
    result = a.initiate_chat(manager, message="start", silent=True)
    assert speakers(groupchat) == ["a", "c", "b"]
    first = server.requests[0].json()["messages"]
    assert (
        first[0]["role"] == "system" and "b: b desc" in first[0]["content"] and "['a', 'b', 'c']" in first[0]["content"]
    )
    assert first[1] == {"role": "user", "content": "start", "name": "a"}
    assert first[-1]["role"] == "system" and "['a', 'b', 'c']" in first[-1]["content"]
    assert result.stop_reason == "max_round reached (3)"


def test_auto_selection_retries_when_the_answer_names_several_or_none(server: FakeOpenAIServer) -> None:
    a, b, c = member("a"), member("b"), member("c")
    say(server, "a or b", "nobody", "b")
    groupchat = GroupChat(agents=[a, b, c], max_round=2, speaker_selection_method="auto")
    manager = GroupChatManager(groupchat, llm_config=llm_config(server))
    a.initiate_chat(manager, message="start", silent=True)
    assert speakers(groupchat) == ["a", "b"]
    third = server.requests[2].json()["messages"]
    assert [m["content"] for m in third if m["role"] == "assistant"] == ["a or b", "nobody"]
    assert "more than one" in third[-3]["content"] and "no participant" in third[-1]["content"]


def test_auto_selection_that_never_names_a_valid_agent_ends_through_its_fallback(server: FakeOpenAIServer) -> None:
    a, b, c = member("a"), member("b"), member("c")
    say(server, *["I cannot decide"] * 30)
    groupchat = GroupChat(
        agents=[a, b, c], max_round=4, speaker_selection_method="auto", max_retries_for_selecting_speaker=1
    )
    manager = GroupChatManager(groupchat, llm_config=llm_config(server))
    result = a.initiate_chat(manager, message="start", silent=True)
    assert speakers(groupchat) == ["a", "b", "c", "a"]  # round robin, deterministic
    assert len(server.requests) == 3 * 2  # three selections, two attempts each
    assert manager.selection_fallbacks == 3
    assert result.stop_reason == (
        "max_round reached (4); speaker selection fell back to round robin 3 times "
        "(the model named no single eligible participant)"
    )


def test_auto_without_a_model_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs a model"):
        GroupChatManager(GroupChat(agents=[member("a"), member("b")]), llm_config=False)


def test_func_call_filter_routes_tool_calls_to_the_agent_that_can_execute_them(server: FakeOpenAIServer) -> None:
    caller = ConversableAgent("caller", llm_config=llm_config(server), human_input_mode="NEVER")
    other = member("other")
    runner = member("runner", function_map={"lookup": lambda key: f"value of {key}"})
    server.script(
        Reply(200, completion(None, tool_calls=[tool_call("t1", "lookup", {"key": "k"})], finish_reason="tool_calls")),
        Reply(200, completion("The value is known.")),
    )
    groupchat = GroupChat(agents=[caller, other, runner], max_round=4, speaker_selection_method="round_robin")
    runner.initiate_chat(GroupChatManager(groupchat, llm_config=False), message="look it up", silent=True)
    # Round robin would give the floor to "other" after the caller; the tool call goes to the runner.
    assert speakers(groupchat) == ["runner", "caller", "runner", "caller"]
    assert groupchat.messages[2]["tool_responses"][0]["content"] == "value of k"
    # The caller's model saw its own call and the unrolled result.
    roles = [m["role"] for m in server.requests[1].json()["messages"]]
    assert roles[-2:] == ["assistant", "tool"]


def test_send_introductions_reach_every_agent_once_outside_the_transcript() -> None:
    a, b = member("a"), member("b")
    groupchat = GroupChat(agents=[a, b], max_round=2, speaker_selection_method="round_robin", send_introductions=True)
    manager = GroupChatManager(groupchat, llm_config=False)
    a.initiate_chat(manager, message="start", silent=True)
    assert speakers(groupchat) == ["a", "b"]
    for agent in (a, b):
        intros = [m for m in agent.chat_messages[manager] if m.get("name") == "chat_manager"]
        assert len(intros) == 1 and "a: a desc" in intros[0]["content"] and "b: b desc" in intros[0]["content"]


def test_resume_continues_a_saved_transcript() -> None:
    a, b, c = member("a"), member("b"), member("c")
    groupchat = GroupChat(agents=[a, b, c], max_round=3, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False)
    saved = [
        {"content": "task", "role": "user", "name": "a"},
        {"content": "b said", "role": "user", "name": "b"},
        {"content": "c says TERMINATE", "role": "user", "name": "c"},
    ]
    last_agent, last_message = manager.resume(saved, remove_termination_string="TERMINATE")
    assert last_agent is c and last_message["content"] == "c says "
    assert [m["content"] for m in a.chat_messages[manager]] == ["task", "b said"]
    result = last_agent.initiate_chat(manager, message=last_message, clear_history=False, silent=True)
    assert speakers(groupchat) == ["a", "b", "c", "a", "b"]
    assert result.stop_reason == "max_round reached (3)"
    assert groupchat.agent_names == ["a", "b", "c"]


def test_reflection_summary_of_a_group_chat_covers_the_whole_transcript(server: FakeOpenAIServer) -> None:
    a = ConversableAgent("a", llm_config=llm_config(server), human_input_mode="NEVER", default_auto_reply="x")
    b, c = member("b"), member("c")
    say(server, "b and c spoke.")
    groupchat = GroupChat(agents=[a, b, c], max_round=3, speaker_selection_method="round_robin")
    a.register_reply(ConversableAgent, lambda r, messages, sender, config: (True, "a again"))
    result = a.initiate_chat(
        GroupChatManager(groupchat, llm_config=False),
        message="start",
        silent=True,
        summary_method="reflection_with_llm",
    )
    assert result.summary == "b and c spoke."
    sent = server.requests[0].json()["messages"]
    assert [m["content"] for m in sent[1:-1]] == ["start", "b speaking", "c speaking"]


async def test_async_group_chat_on_a_given_runtime_sees_broadcasts_in_order() -> None:
    from actorgen_core import SingleThreadedAgentRuntime

    runtime = SingleThreadedAgentRuntime()
    a, b, c = (member(name, runtime=runtime) for name in "abc")
    seen_by_c: list[list[str]] = []

    def c_reply(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        seen_by_c.append([m["content"] for m in messages])
        return True, f"c after {len(messages)}"

    c.register_reply(ConversableAgent, c_reply)
    groupchat = GroupChat(agents=[a, b, c], max_round=6, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False, runtime=runtime)
    result = await a.a_initiate_chat(manager, message="start", silent=True)
    assert speakers(groupchat) == ["a", "b", "c", "a", "b", "c"]
    # Each time c speaks, it has recorded every message before its turn, in order.
    assert seen_by_c == [["start", "b speaking"], ["start", "b speaking", "c after 2", "a speaking", "b speaking"]]
    assert [m["content"] for m in result.chat_history] == [m["content"] for m in groupchat.messages]
    await runtime.stop()


def test_a_time_limit_stops_the_group_and_the_manager_stops_too() -> None:
    import time

    a, b = member("a"), member("b")

    async def slow(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        import asyncio

        await asyncio.sleep(0.05)
        return True, "slow"

    b.register_reply(ConversableAgent, slow)
    groupchat = GroupChat(agents=[a, b], max_round=1000, speaker_selection_method="round_robin")
    result = a.initiate_chat(GroupChatManager(groupchat, llm_config=False), message="go", silent=True, time_limit=0.3)
    assert result.stop_reason == "time limit of 0.3s reached"
    length = len(groupchat.messages)
    assert 2 <= length < 20
    time.sleep(0.3)
    assert len(groupchat.messages) == length  # the manager's turn was cancelled with the request
