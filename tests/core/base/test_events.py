"""Structured log events (actorgen_core.logging): each renders as JSON with documented keys."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import pytest

import actorgen_core.logging as events
from actorgen_core import (
    EVENT_LOGGER_NAME,
    AgentId,
    MessageContext,
    MessageHandlerContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    rpc,
)
from actorgen_core.logging import (
    AgentConstructionExceptionEvent,
    DeliveryStage,
    LLMCallEvent,
    LLMStreamEndEvent,
    LLMStreamStartEvent,
    MessageDroppedEvent,
    MessageEvent,
    MessageHandlerExceptionEvent,
    MessageKind,
    ToolCallEvent,
)

MESSAGES = [{"role": "user", "content": "hi"}]
RESPONSE = {"content": "hello", "finish_reason": "stop"}


def rendered(event: object) -> dict[str, Any]:
    text = str(event)
    data = json.loads(text)
    assert isinstance(data, dict)
    return data


def test_public_names() -> None:
    assert set(events.__all__) == {
        "LLMCallEvent",
        "LLMStreamStartEvent",
        "LLMStreamEndEvent",
        "ToolCallEvent",
        "MessageKind",
        "DeliveryStage",
        "MessageEvent",
        "MessageDroppedEvent",
        "MessageHandlerExceptionEvent",
        "AgentConstructionExceptionEvent",
    }
    for name in events.__all__:
        assert hasattr(events, name)


def test_enums() -> None:
    assert [(m.name, m.value) for m in MessageKind] == [("DIRECT", 1), ("PUBLISH", 2), ("RESPOND", 3)]
    assert [(m.name, m.value) for m in DeliveryStage] == [("SEND", 1), ("DELIVER", 2)]


def test_llm_call_event() -> None:
    event = LLMCallEvent(messages=MESSAGES, response=RESPONSE, prompt_tokens=3, completion_tokens=5, model="m1")
    assert rendered(event) == {
        "model": "m1",
        "type": "LLMCall",
        "messages": MESSAGES,
        "response": RESPONSE,
        "prompt_tokens": 3,
        "completion_tokens": 5,
        "agent_id": None,
    }
    assert event.prompt_tokens == 3
    assert event.completion_tokens == 5


def test_llm_stream_start_event() -> None:
    assert rendered(LLMStreamStartEvent(messages=MESSAGES, extra=1)) == {
        "extra": 1,
        "type": "LLMStreamStart",
        "messages": MESSAGES,
        "agent_id": None,
    }


def test_llm_stream_end_event() -> None:
    event = LLMStreamEndEvent(response=RESPONSE, prompt_tokens=7, completion_tokens=11)
    assert rendered(event) == {
        "type": "LLMStreamEnd",
        "response": RESPONSE,
        "prompt_tokens": 7,
        "completion_tokens": 11,
        "agent_id": None,
    }
    assert (event.prompt_tokens, event.completion_tokens) == (7, 11)


def test_tool_call_event() -> None:
    assert rendered(ToolCallEvent(tool_name="add", arguments={"a": 1, "b": 2}, result="3")) == {
        "type": "ToolCall",
        "tool_name": "add",
        "arguments": {"a": 1, "b": 2},
        "result": "3",
        "agent_id": None,
    }


def test_tool_call_event_takes_no_extra_keywords() -> None:
    with pytest.raises(TypeError):
        ToolCallEvent(tool_name="add", arguments={}, result="3", extra=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("sender", "receiver", "sender_text", "receiver_text"),
    [
        (None, None, None, None),
        (AgentId("a", "1"), AgentId("b", "2"), "a/1", "b/2"),
        (AgentId("a", "k/with/slash"), TopicId("news", "s"), "a/k/with/slash", "news/s"),
    ],
)
def test_message_event(sender: Any, receiver: Any, sender_text: Any, receiver_text: Any) -> None:
    event = MessageEvent(
        payload='{"x": 1}',
        sender=sender,
        receiver=receiver,
        kind=MessageKind.DIRECT,
        delivery_stage=DeliveryStage.SEND,
        note="n",
    )
    assert rendered(event) == {
        "note": "n",
        "payload": '{"x": 1}',
        "sender": sender_text,
        "receiver": receiver_text,
        "kind": "MessageKind.DIRECT",
        "delivery_stage": "DeliveryStage.SEND",
        "type": "Message",
    }


@pytest.mark.parametrize("kind", list(MessageKind))
def test_message_dropped_event(kind: MessageKind) -> None:
    event = MessageDroppedEvent(payload="p", sender=AgentId("a", "1"), receiver=TopicId("t", "s"), kind=kind)
    assert rendered(event) == {
        "payload": "p",
        "sender": "a/1",
        "receiver": "t/s",
        "kind": str(kind),
        "type": "MessageDropped",
    }


def test_message_handler_exception_event() -> None:
    event = MessageHandlerExceptionEvent(
        payload="p", handling_agent=AgentId("h", "k"), exception=ValueError("bad value")
    )
    assert rendered(event) == {
        "payload": "p",
        "handling_agent": "h/k",
        "exception": "bad value",
        "type": "MessageHandlerException",
    }


def test_agent_construction_exception_event() -> None:
    event = AgentConstructionExceptionEvent(agent_id=AgentId("a", "k"), exception=RuntimeError("no"))
    assert rendered(event) == {"agent_id": "a/k", "exception": "no", "type": "AgentConstructionException"}


def test_values_that_are_not_json_still_render() -> None:
    event = LLMCallEvent(
        messages=MESSAGES, response=RESPONSE, prompt_tokens=1, completion_tokens=1, who=AgentId("a", "b")
    )
    assert rendered(event)["who"] == "a/b"


def test_documented_fields_win_over_extra_keywords() -> None:
    event = MessageEvent(
        payload="p",
        sender=None,
        receiver=None,
        kind=MessageKind.PUBLISH,
        delivery_stage=DeliveryStage.DELIVER,
        type="spoofed",
    )
    assert rendered(event)["type"] == "Message"


def test_agent_id_is_filled_inside_a_handler_context() -> None:
    with MessageHandlerContext.populate_context(AgentId("llm", "k1")):
        inside = [
            LLMCallEvent(messages=[], response={}, prompt_tokens=0, completion_tokens=0),
            LLMStreamStartEvent(messages=[]),
            LLMStreamEndEvent(response={}, prompt_tokens=0, completion_tokens=0),
            ToolCallEvent(tool_name="t", arguments={}, result=""),
        ]
    for event in inside:
        assert rendered(event)["agent_id"] == "llm/k1", type(event).__name__
    # The value is captured when the event is built.
    assert rendered(LLMStreamStartEvent(messages=[]))["agent_id"] is None


@dataclass
class Think:
    pass


class ThinkingAgent(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("logs an LLM call and a tool call")

    @rpc
    async def think(self, message: Think, ctx: MessageContext) -> None:
        logger = logging.getLogger(EVENT_LOGGER_NAME)
        logger.info(LLMCallEvent(messages=MESSAGES, response=RESPONSE, prompt_tokens=1, completion_tokens=2))
        logger.info(ToolCallEvent(tool_name="search", arguments={"q": "x"}, result="found"))


async def test_agent_id_is_filled_inside_a_real_handler(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=EVENT_LOGGER_NAME)
    runtime = SingleThreadedAgentRuntime()
    await ThinkingAgent.register(runtime, "thinker", ThinkingAgent)
    runtime.start()
    await runtime.send_message(Think(), AgentId("thinker", "k/2"))
    await runtime.stop_when_idle()
    logged = [r for r in caplog.records if isinstance(r.msg, LLMCallEvent | ToolCallEvent)]
    assert [type(r.msg).__name__ for r in logged] == ["LLMCallEvent", "ToolCallEvent"]
    for record in logged:
        assert record.name == EVENT_LOGGER_NAME
        assert record.levelno == logging.INFO
        data = json.loads(record.getMessage())  # the event object is the msg; its str is JSON
        assert data["agent_id"] == "thinker/k/2"
