"""The reply pipeline: order, triggers, final/non-final answers, hooks, and tools."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel

from actorgen_agentchat import AssistantAgent, ConversableAgent, UserProxyAgent, register_function

from ..ext.fake_openai_server import FakeOpenAIServer, Reply, completion, tool_call
from .conftest import llm_config, say


def plain(name: str, reply: str = "", **kwargs: Any) -> ConversableAgent:
    kwargs.setdefault("human_input_mode", "NEVER")
    return ConversableAgent(name, llm_config=False, default_auto_reply=reply, **kwargs)


def test_latest_registered_runs_first_and_position_overrides() -> None:
    agent, peer = plain("agent", "default"), plain("peer")
    calls: list[str] = []

    def make(label: str, final: bool) -> Any:
        def reply(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
            calls.append(label)
            return final, f"from {label}"

        return reply

    agent.register_reply(ConversableAgent, make("first", False))
    agent.register_reply(ConversableAgent, make("second", False))
    agent.register_reply(ConversableAgent, make("last", False), position=2)
    assert agent.generate_reply(messages=[{"content": "x", "role": "user"}], sender=peer) == "default"
    assert calls == ["second", "first", "last"]  # each ran exactly once; (False, x) passed on


def test_triggers_by_class_instance_name_callable_list_and_none() -> None:
    agent, bob, carol = plain("agent", "default"), plain("bob"), plain("carol")
    agent.register_reply("bob", lambda r, messages, sender, config: (True, "by name"))
    agent.register_reply(carol, lambda r, messages, sender, config: (True, "by instance"))
    agent.register_reply(None, lambda r, messages, sender, config: (True, "no sender"))
    agent.register_reply(
        lambda sender: sender is not None and sender.name == "dave",
        lambda r, messages, sender, config: (True, "callable"),
    )
    agent.register_reply([UserProxyAgent], lambda r, messages, sender, config: (True, "by class"))
    msgs = [{"content": "x", "role": "user"}]
    assert agent.generate_reply(msgs, bob) == "by name"
    assert agent.generate_reply(msgs, carol) == "by instance"
    assert agent.generate_reply(msgs, None) == "no sender"
    assert agent.generate_reply(msgs, plain("dave")) == "callable"
    assert agent.generate_reply(msgs, UserProxyAgent("u", code_execution_config=False)) == "by class"
    assert agent.generate_reply(msgs, plain("eve")) == "default"


def test_async_reply_functions_work_in_sync_chats_and_true_none_stays_silent() -> None:
    alice, bob = plain("alice", "more"), plain("bob")
    count = 0

    async def reply(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        nonlocal count
        count += 1
        return (True, None) if count == 3 else (True, f"async {count}")

    bob.register_reply(ConversableAgent, reply)
    result = alice.initiate_chat(bob, message="go", silent=True)
    assert [m["content"] for m in result.chat_history] == ["go", "async 1", "more", "async 2", "more"]
    assert count == 3
    assert result.stop_reason == "bob chose not to reply"


def test_the_termination_check_runs_once_per_turn_in_async_chats() -> None:
    alice = plain("alice", "more", max_consecutive_auto_reply=3)
    bob = plain("bob", "ok")

    import asyncio

    result = asyncio.run(alice.a_initiate_chat(bob, message="go", silent=True))
    # Counted once per reply (v0.2's async path counted twice and stopped after half the replies).
    assert [m["content"] for m in result.chat_history].count("more") == 3


def test_config_and_reset_config() -> None:
    agent, peer = plain("agent"), plain("peer")

    def counting(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        config["n"] += 1
        return True, str(config["n"])

    agent.register_reply(ConversableAgent, counting, config={"n": 0}, reset_config=lambda c: c.update(n=100))
    msgs = [{"content": "x", "role": "user"}]
    assert agent.generate_reply(msgs, peer) == "1"
    assert agent.generate_reply(msgs, peer) == "2"
    agent.reset()
    assert agent.generate_reply(msgs, peer) == "101"


def test_hooks() -> None:
    alice, bob = plain("alice"), plain("bob")
    seen: list[Any] = []

    def reply(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        seen.append([m["content"] for m in messages])
        return True, "reply"

    bob.register_reply(ConversableAgent, reply)
    bob.register_hook("process_last_received_message", lambda content: content.upper())
    bob.register_hook("process_all_messages_before_reply", lambda messages: [*messages, {"content": "extra"}])
    bob.register_hook(
        "process_message_before_send",
        lambda sender, message, recipient, silent: f"{message} (to {recipient.name})",
    )
    result = alice.initiate_chat(bob, message="hello", max_turns=1, silent=True)
    assert seen == [["HELLO", "extra"]]
    assert bob.chat_messages[alice][0]["content"] == "hello"  # the stored history is not changed
    assert result.chat_history[-1]["content"] == "reply (to alice)"


# -- tools -----------------------------------------------------------------------------------


class Point(BaseModel):
    x: int
    y: int


def test_tools_from_annotated_hints_run_and_errors_go_back_to_the_model(server: FakeOpenAIServer) -> None:
    assistant = AssistantAgent("assistant", llm_config=llm_config(server))
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=5)

    @user.register_for_execution()
    @assistant.register_for_llm(description="Add two numbers.")
    def add(a: Annotated[int, "first number"], b: Annotated[int, "second number"] = 1) -> int:
        return a + b

    async def norm(p: Annotated[Point, "a point"]) -> dict[str, int]:
        return {"sum": p.x + p.y}

    def explode(reason: str) -> str:
        raise RuntimeError(f"boom: {reason}")

    register_function(norm, caller=assistant, executor=user, description="Sum of a point's coordinates.")
    register_function(explode, caller=assistant, executor=user, description="Always fails.")

    server.script(
        Reply(
            200,
            completion(
                None,
                tool_calls=[
                    tool_call("c1", "add", {"a": 2}),
                    tool_call("c2", "norm", {"p": {"x": 3, "y": 4}}),
                    tool_call("c3", "explode", {"reason": "test"}),
                    tool_call("c4", "missing", {}),
                ],
                finish_reason="tool_calls",
            ),
        ),
        Reply(200, completion("TERMINATE")),
    )
    result = user.initiate_chat(assistant, message="compute", silent=True)
    assert result.stop_reason == "user received a termination message"

    first = server.requests[0].json()
    tools = {tool["function"]["name"]: tool["function"] for tool in first["tools"]}
    assert set(tools) == {"add", "norm", "explode"}
    add_schema = tools["add"]["parameters"]
    assert tools["add"]["description"] == "Add two numbers."
    assert add_schema["properties"]["a"]["type"] == "integer"
    assert add_schema["properties"]["a"]["description"] == "first number"
    assert add_schema["properties"]["b"]["default"] == 1
    assert add_schema["required"] == ["a"]

    tool_message = result.chat_history[2]
    assert tool_message["role"] == "tool"
    responses = tool_message["tool_responses"]
    assert [r["tool_call_id"] for r in responses] == ["c1", "c2", "c3", "c4"]
    assert responses[0]["content"] == "3"
    assert json.loads(responses[1]["content"]) == {"sum": 7}
    assert responses[2]["content"].startswith("Error") and "boom: test" in responses[2]["content"]
    assert responses[3]["content"].startswith("Error") and "not found" in responses[3]["content"]

    # The results were unrolled into one tool message per call before the next model call.
    second = server.requests[1].json()["messages"]
    assert [m["role"] for m in second[-4:]] == ["tool"] * 4
    assert [m["tool_call_id"] for m in second[-4:]] == ["c1", "c2", "c3", "c4"]
    assert "boom: test" in second[-2]["content"]  # the error went back to the model, and the chat went on
    assert second[-5]["role"] == "assistant" and len(second[-5]["tool_calls"]) == 4


def test_execute_function_directly() -> None:
    agent = plain("agent", function_map={"echo": lambda text: {"echo": text}})
    ok, result = agent.execute_function({"name": "echo", "arguments": '{"text": "é"}'})
    assert ok and result["content"] == '{"echo": "é"}'
    ok, result = agent.execute_function({"name": "echo", "arguments": "not json"})
    assert not ok and result["content"].startswith("Error")
    assert agent.can_execute_function("echo") and not agent.can_execute_function(["echo", "other"])


def test_chatbot_generate_reply_with_a_model(server: FakeOpenAIServer) -> None:
    say(server, "Hello, human.")
    bot = ConversableAgent("bot", llm_config=llm_config(server), human_input_mode="NEVER")
    assert bot.generate_reply(messages=[{"role": "user", "content": "Hi"}]) == "Hello, human."
    assert server.requests[0].json()["messages"][-1] == {"role": "user", "content": "Hi", "name": "user"}


def test_a_chat_completion_client_can_be_passed_as_llm_config(server: FakeOpenAIServer) -> None:
    from actorgen_ext.models.openai import OpenAIChatCompletionClient

    say(server, "direct client answer")
    client = OpenAIChatCompletionClient(model="gpt-4o", api_key="sk-x", base_url=server.base_url, max_retries=0)
    bot = ConversableAgent("bot", llm_config=client, human_input_mode="NEVER", system_message="Sys.")
    result = plain("user").initiate_chat(bot, message="hi", max_turns=1, silent=True)
    assert result.summary == "direct client answer"
    assert server.requests[0].json()["messages"][0] == {"role": "system", "content": "Sys."}
    assert result.cost["usage_including_cached_inference"]["total_cost"] == 0
    usage = bot.get_total_usage()
    assert usage is not None and usage["total_cost"] == 0
    assert [entry["total_tokens"] for name, entry in usage.items() if name != "total_cost"] == [14]
    assert plain("x").get_total_usage() is None


def test_stop_reply_at_receive_silences_replies_on_receipt() -> None:
    alice, bob = plain("alice"), plain("bob", "b")
    bob.reply_at_receive[alice] = True
    alice.send("first", bob, silent=True)
    assert [m["content"] for m in alice.chat_messages[bob]] == ["first", "b"]
    bob.stop_reply_at_receive(alice)
    alice.send("second", bob, silent=True)
    assert [m["content"] for m in alice.chat_messages[bob]] == ["first", "b", "second"]
