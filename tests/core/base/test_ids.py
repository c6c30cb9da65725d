"""AgentId, AgentType, TopicId and DefaultTopicId: what names are valid and how ids behave.

The type rules are autogen_core's (so ids stay interchangeable); actorgen adds a length
bound on every part and refuses control characters in keys and sources, and its error
messages say which rule a value broke.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from actorgen_core import (
    AgentId,
    AgentType,
    DefaultTopicId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    event,
    rpc,
    type_subscription,
)

LONG = "x" * 513
MAX = "x" * 512

VALID_AGENT_TYPES = ["a", "agent", "Agent_1", "my-agent", "my.agent", "ä", "日本", "_", "-", ".", "a.b-c_d", MAX]

# (value, a fragment the ValueError message must contain: the rule that was broken)
INVALID_AGENT_TYPES: list[tuple[Any, str]] = [
    ("", "non-empty"),
    ("a b", "only letters"),
    (" a", "only letters"),
    ("a/b", "only letters"),
    ("a:b", "only letters"),
    ("a=b", "only letters"),
    ("a\nb", "only letters"),
    ("a\x00b", "only letters"),
    ("a\tb", "only letters"),
    ("a\n", "only letters"),  # '$' would accept a trailing newline; the rule uses \Z
    (LONG, "longer than 512"),
    (1, "must be a str"),
    (None, "must be a str"),
    (b"bytes", "must be a str"),
]

VALID_TOPIC_TYPES = ["default", "a:b", "a=b", "a:b=c.d-e", "ä", "rpc:request=1", "x.y", MAX]
INVALID_TOPIC_TYPES: list[tuple[Any, str]] = [
    ("", "non-empty"),
    ("a b", "only letters"),
    ("a/b", "only letters"),
    ("a\x00", "only letters"),
    ("a\n", "only letters"),
    (LONG, "longer than 512"),
    (3, "must be a str"),
]

# Keys and sources: any text except control characters, '/' included, bounded in length.
VALID_KEYS = [
    "default",
    "",
    "with space",
    "a/b",
    "a/b/c",
    "/",
    "ä",
    "key:with=punct!?",
    "\U0001f469\u200d\U0001f4bb",  # an emoji ZWJ sequence (woman technologist)
    "caf\xe9\xa0no\xebl",  # a no-break space is text, not a control character
    MAX,
]
INVALID_KEYS: list[tuple[Any, str]] = [
    ("a\nb", "control characters"),
    ("a\rb", "control characters"),
    ("\t", "control characters"),
    ("a\x00", "control characters"),
    ("\x1b[31mred", "control characters"),
    ("a\x7f", "control characters"),
    ("a\x85b", "control characters"),  # C1 control (NEL)
    (LONG, "longer than 512"),
    (1, "must be a str"),
    (None, "must be a str"),
]


# ---------------------------------------------------------------------------- AgentId


@pytest.mark.parametrize("agent_type", VALID_AGENT_TYPES)
def test_agent_id_accepts_valid_types(agent_type: str) -> None:
    agent_id = AgentId(agent_type, "k")
    assert agent_id.type == agent_type
    assert agent_id.key == "k"


@pytest.mark.parametrize(("agent_type", "rule"), INVALID_AGENT_TYPES)
def test_agent_id_rejects_invalid_types_naming_the_rule(agent_type: Any, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        AgentId(agent_type, "k")


@pytest.mark.parametrize(("agent_type", "rule"), INVALID_AGENT_TYPES[:11])
def test_agent_id_rejects_invalid_agent_type_objects(agent_type: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        AgentId(AgentType(agent_type), "k")


@pytest.mark.parametrize("key", VALID_KEYS)
def test_agent_id_accepts_valid_keys(key: str) -> None:
    assert AgentId("t", key).key == key


@pytest.mark.parametrize(("key", "rule"), INVALID_KEYS)
def test_agent_id_rejects_invalid_keys_naming_the_rule(key: Any, rule: str) -> None:
    with pytest.raises(ValueError, match=rule) as info:
        AgentId("t", key)
    assert "agent key" in str(info.value)


def test_agent_id_error_message_shows_a_bounded_excerpt_of_the_value() -> None:
    with pytest.raises(ValueError) as info:
        AgentId("t", "y" * 100_000)
    assert len(str(info.value)) < 200


def test_agent_id_accepts_agent_type_object() -> None:
    agent_id = AgentId(AgentType("worker"), "k")
    assert agent_id.type == "worker"
    assert agent_id == AgentId("worker", "k")


@pytest.mark.parametrize(
    ("text", "agent_type", "key"),
    [
        ("t/k", "t", "k"),
        ("t/k/with/slash", "t", "k/with/slash"),
        ("t/", "t", ""),
        ("ä.b/ä", "ä.b", "ä"),
    ],
)
def test_agent_id_from_str_splits_on_first_slash_and_round_trips(text: str, agent_type: str, key: str) -> None:
    agent_id = AgentId.from_str(text)
    assert (agent_id.type, agent_id.key) == (agent_type, key)
    assert str(agent_id) == text
    assert AgentId.from_str(str(agent_id)) == agent_id


@pytest.mark.parametrize(("text", "rule"), [("no-slash", "type/key"), ("", "type/key"), ("a b/k", "only letters")])
def test_agent_id_from_str_rejects_malformed(text: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        AgentId.from_str(text)


def test_agent_id_from_str_rejects_non_str() -> None:
    with pytest.raises(ValueError):
        AgentId.from_str(42)  # type: ignore[arg-type]


def test_agent_id_equality_and_hash() -> None:
    a = AgentId("t", "k")
    assert a == AgentId("t", "k")
    assert hash(a) == hash(AgentId("t", "k"))
    assert a != AgentId("t", "k2")
    assert a != AgentId("t2", "k")
    assert len({a, AgentId("t", "k"), AgentId("t", "k2")}) == 2
    assert {a: 1}[AgentId.from_str("t/k")] == 1


@pytest.mark.parametrize("other", ["t/k", ("t", "k"), TopicId("t", "k"), AgentType("t"), None, 0])
def test_agent_id_is_never_equal_to_other_kinds(other: object) -> None:
    agent_id = AgentId("t", "k")
    assert (agent_id == other) is False
    assert (agent_id != other) is True


def test_agent_id_str_and_repr() -> None:
    agent_id = AgentId("t", "k/1")
    assert str(agent_id) == "t/k/1"
    assert repr(agent_id) == 'AgentId(type="t", key="k/1")'


def test_agent_id_is_immutable() -> None:
    agent_id = AgentId("t", "k")
    with pytest.raises(AttributeError):
        agent_id.type = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        agent_id.key = "other"  # type: ignore[misc]


# ---------------------------------------------------------------------------- AgentType


def test_agent_type_is_a_frozen_value() -> None:
    agent_type = AgentType("x")
    assert agent_type.type == "x"
    assert agent_type == AgentType("x")
    assert hash(agent_type) == hash(AgentType("x"))
    assert agent_type != AgentType("y")
    assert repr(agent_type) == "AgentType(type='x')"
    with pytest.raises(AttributeError):
        agent_type.type = "y"  # type: ignore[misc]


# ---------------------------------------------------------------------------- TopicId


@pytest.mark.parametrize("topic_type", VALID_TOPIC_TYPES)
def test_topic_id_accepts_valid_types(topic_type: str) -> None:
    assert TopicId(topic_type, "s").type == topic_type


@pytest.mark.parametrize(("topic_type", "rule"), INVALID_TOPIC_TYPES)
def test_topic_id_rejects_invalid_types_naming_the_rule(topic_type: Any, rule: str) -> None:
    with pytest.raises(ValueError, match=rule) as info:
        TopicId(topic_type, "s")
    assert "topic type" in str(info.value).lower()


@pytest.mark.parametrize("source", VALID_KEYS)
def test_topic_id_accepts_valid_sources(source: str) -> None:
    assert TopicId("t", source).source == source


@pytest.mark.parametrize(("source", "rule"), INVALID_KEYS)
def test_topic_id_rejects_invalid_sources_naming_the_rule(source: Any, rule: str) -> None:
    with pytest.raises(ValueError, match=rule) as info:
        TopicId("t", source)
    assert "topic source" in str(info.value)


@pytest.mark.parametrize(
    ("text", "topic_type", "source"),
    [("t/s", "t", "s"), ("a:b=c/HelloAgents/python", "a:b=c", "HelloAgents/python"), ("t/", "t", "")],
)
def test_topic_id_from_str_round_trips(text: str, topic_type: str, source: str) -> None:
    topic = TopicId.from_str(text)
    assert (topic.type, topic.source) == (topic_type, source)
    assert str(topic) == text
    assert TopicId.from_str(str(topic)) == topic


def test_topic_id_from_str_rejects_malformed() -> None:
    with pytest.raises(ValueError, match="type/source"):
        TopicId.from_str("nosource")


def test_topic_id_equality_hash_and_immutability() -> None:
    topic = TopicId("t", "s")
    assert topic == TopicId("t", "s")
    assert hash(topic) == hash(TopicId("t", "s"))
    assert topic != TopicId("t", "other")
    assert topic != "t/s"
    assert repr(topic) == "TopicId(type='t', source='s')"
    with pytest.raises(AttributeError):
        topic.type = "u"  # type: ignore[misc]


# ---------------------------------------------------------------------------- DefaultTopicId


def test_default_topic_id_outside_a_handler() -> None:
    topic = DefaultTopicId()
    assert (topic.type, topic.source) == ("default", "default")
    assert isinstance(topic, TopicId)
    assert DefaultTopicId("news").source == "default"
    assert DefaultTopicId(source="explicit").source == "explicit"
    assert DefaultTopicId("news", "s").type == "news"


def test_default_topic_id_validates_like_topic_id() -> None:
    with pytest.raises(ValueError, match="only letters"):
        DefaultTopicId("bad type")
    with pytest.raises(ValueError, match="control characters"):
        DefaultTopicId(source="a\nb")


@dataclass
class WhatTopic:
    pass


@dataclass
class Forward:
    to: str


@dataclass
class Announce:
    pass


class TopicProbe(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("reports the DefaultTopicId it sees")

    @rpc
    async def what_topic(self, message: WhatTopic, ctx: MessageContext) -> str:
        return str(DefaultTopicId())

    @rpc
    async def forward(self, message: Forward, ctx: MessageContext) -> str:
        inner = await self.send_message(WhatTopic(), AgentId("probe", message.to))
        return f"{inner} {DefaultTopicId()}"


@type_subscription("announcements")
class EventProbe(RoutedAgent):
    seen: list[str] = []  # noqa: RUF012 - class-level record shared by the instances of one test

    def __init__(self) -> None:
        super().__init__("records the DefaultTopicId it sees in an event")

    @event
    async def on_announce(self, message: Announce, ctx: MessageContext) -> None:
        EventProbe.seen.append(str(DefaultTopicId("reply")))


async def test_default_topic_id_source_inside_a_handler_is_the_agent_key() -> None:
    runtime = SingleThreadedAgentRuntime()
    await TopicProbe.register(runtime, "probe", TopicProbe)
    runtime.start()
    try:
        assert await runtime.send_message(WhatTopic(), AgentId("probe", "k1")) == "default/k1"
        assert await runtime.send_message(WhatTopic(), AgentId("probe", "a/b")) == "default/a/b"
        # A nested request sees the key of the agent handling it; the outer handler's
        # context is restored once the inner request returns.
        assert await runtime.send_message(Forward("inner"), AgentId("probe", "outer")) == (
            "default/inner default/outer"
        )
    finally:
        await runtime.stop_when_idle()
    assert DefaultTopicId().source == "default"


async def test_default_topic_id_source_inside_an_event_handler_is_the_agent_key() -> None:
    EventProbe.seen = []
    runtime = SingleThreadedAgentRuntime()
    await EventProbe.register(runtime, "events", EventProbe)
    runtime.start()
    await runtime.publish_message(Announce(), TopicId("announcements", "src1"))
    await runtime.publish_message(Announce(), TopicId("announcements", "src2"))
    await runtime.stop_when_idle()
    assert sorted(EventProbe.seen) == ["reply/src1", "reply/src2"]


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("a\u2028b", "line separators"),
        ("a\u2029b", "paragraph separators"),
        ("a\ud800b", "unpaired surrogates"),
    ],
)
def test_keys_refuse_line_breaks_and_lone_surrogates(key: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        AgentId("t", key)
    with pytest.raises(ValueError, match=rule):
        TopicId("t", key)


def test_default_topic_id_equals_a_topic_id_with_the_same_fields() -> None:
    # Deliberate difference: autogen's dataclass equality made these unequal (while hashing equal).
    assert DefaultTopicId() == TopicId("default", "default")
    assert TopicId("default", "default") == DefaultTopicId()
    assert len({DefaultTopicId(), TopicId("default", "default")}) == 1
    assert DefaultTopicId("news", "x") != TopicId("news", "y")
    assert TopicId("a", "b") != "a/b"
