"""Agents reached only through their actors: what makes a chat work across processes.

A RemoteAgent stands for an agent whose actor someone else registered; everything the chat
does with it goes through runtime messages. Here the "other process" is simulated by an
agent of this process whose actor is registered on the same runtime.
"""

from __future__ import annotations

from typing import Any

from actorgen_agentchat import ConversableAgent, GroupChat, GroupChatManager, RemoteAgent
from actorgen_core import SingleThreadedAgentRuntime


def plain(name: str, reply: str = "", **kwargs: Any) -> ConversableAgent:
    kwargs.setdefault("human_input_mode", "NEVER")
    return ConversableAgent(name, llm_config=False, default_auto_reply=reply, **kwargs)


async def test_a_chat_with_a_remote_agent_goes_through_its_actor_only() -> None:
    runtime = SingleThreadedAgentRuntime()
    hosted = plain("remote_bob", "bob here", runtime=runtime)  # lives "elsewhere"
    assert (await hosted.a_register_actor()).type == "agentchat.remote_bob"
    bob = RemoteAgent("remote_bob", "Bob, elsewhere", runtime=runtime)
    alice = plain("local_alice", "alice here", runtime=runtime)
    result = await alice.a_initiate_chat(bob, message="hello", max_turns=2, silent=True)
    assert [m["content"] for m in result.chat_history] == ["hello", "bob here", "alice here", "bob here"], (
        result.stop_reason
    )
    assert [m["role"] for m in hosted.chat_messages[alice]] == ["user", "assistant", "user", "assistant"]
    assert result.summary == "bob here" and result.stop_reason == "max_turns reached (2)"
    # The next chat clears the hosted agent's history through a message to its actor.
    await alice.a_initiate_chat(bob, message="again", max_turns=1, silent=True)
    assert [m["content"] for m in hosted.chat_messages[alice]] == ["again", "bob here"]
    await runtime.stop()


async def test_a_remote_agent_in_a_group_chat_hears_every_broadcast() -> None:
    runtime = SingleThreadedAgentRuntime()
    hosted = plain("remote_carol", "carol here", runtime=runtime)
    await hosted.a_register_actor()
    carol = RemoteAgent("remote_carol", "Carol, elsewhere", runtime=runtime)
    a, b = plain("group_a", "a here", runtime=runtime), plain("group_b", "b here", runtime=runtime)
    groupchat = GroupChat(agents=[a, b, carol], max_round=4, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False, runtime=runtime)
    await a.a_initiate_chat(manager, message="start", silent=True)
    assert [m["name"] for m in groupchat.messages] == ["group_a", "group_b", "remote_carol", "group_a"]
    assert [(m["content"], m["role"]) for m in hosted.chat_messages[manager]] == [
        ("start", "user"),
        ("b here", "user"),
        ("carol here", "assistant"),
        ("a here", "user"),
    ]
    await runtime.stop()


async def test_a_sender_unknown_here_appears_as_a_remote_agent() -> None:
    from actorgen_agentchat._actor import Delivery, Outcome

    runtime = SingleThreadedAgentRuntime()
    hosted = plain("remote_dave", "dave here", runtime=runtime)
    dave = await hosted.a_register_actor()
    # What an agent of another process sends: its id is one nobody in this process has.
    outcome = await runtime.send_message(
        Delivery({"content": "hi", "name": "far_frank"}, "far_frank", True, True), dave
    )
    assert outcome == Outcome({"content": "dave here", "role": "assistant", "name": "remote_dave"})
    (peer,) = hosted.chat_messages
    assert isinstance(peer, RemoteAgent) and peer.name == "far_frank"
    await runtime.stop()
