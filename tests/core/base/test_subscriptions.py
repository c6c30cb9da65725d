"""Subscriptions: matching, mapping, equality, the class decorators, and SubscriptionManager."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from actorgen_core import (
    AgentId,
    AgentType,
    DefaultSubscription,
    DefaultTopicId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    Subscription,
    SubscriptionInstantiationContext,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
    default_subscription,
    event,
    type_subscription,
)
from actorgen_core.application import SubscriptionManager, SubscriptionNotFoundError
from actorgen_core.application._subscription_manager import _CACHE_LIMIT
from actorgen_core.base import subscription_factory
from actorgen_core.exceptions import CantHandleException

# ---------------------------------------------------------------------------- TypeSubscription


def test_type_subscription_matches_exact_topic_type_any_source() -> None:
    sub = TypeSubscription("news", "reader")
    assert sub.is_match(TopicId("news", "a"))
    assert sub.is_match(TopicId("news", "b/c"))
    assert not sub.is_match(TopicId("news2", "a"))
    assert not sub.is_match(TopicId("new", "a"))
    assert not sub.is_match(TopicId("News", "a"))


def test_type_subscription_maps_source_to_key() -> None:
    sub = TypeSubscription("news", "reader")
    assert sub.map_to_agent(TopicId("news", "s1")) == AgentId("reader", "s1")
    assert sub.map_to_agent(TopicId("news", "a/b")) == AgentId("reader", "a/b")


def test_type_subscription_map_to_agent_refuses_a_non_matching_topic() -> None:
    sub = TypeSubscription("news", "reader")
    with pytest.raises(CantHandleException, match="does not match"):
        sub.map_to_agent(TopicId("sports", "s1"))


def test_type_subscription_properties_and_ids() -> None:
    sub = TypeSubscription("news", AgentType("reader"))
    assert sub.topic_type == "news"
    assert sub.agent_type == "reader"
    assert isinstance(sub.id, str) and sub.id
    assert TypeSubscription("news", "reader").id != sub.id  # fresh id each time
    assert TypeSubscription("news", "reader", id="fixed").id == "fixed"
    assert isinstance(sub, Subscription)


@pytest.mark.parametrize("cls", [TypeSubscription, TypePrefixSubscription])
def test_subscriptions_validate_their_types(cls: Any) -> None:
    with pytest.raises(ValueError, match="topic type"):
        cls("bad topic", "reader")
    with pytest.raises(ValueError, match="agent type"):
        cls("news", "a:b")
    with pytest.raises(ValueError, match="agent type"):
        cls("news", AgentType("a b"))
    cls("a:b=c", "reader")  # ':' and '=' are fine in topic types


# ---------------------------------------------------------------------------- TypePrefixSubscription


def test_type_prefix_subscription_matches_prefix() -> None:
    sub = TypePrefixSubscription("agent:", "worker")
    assert sub.is_match(TopicId("agent:", "s"))
    assert sub.is_match(TopicId("agent:task", "s"))
    assert not sub.is_match(TopicId("agent", "s"))
    assert not sub.is_match(TopicId("other:agent:", "s"))
    assert sub.map_to_agent(TopicId("agent:task", "s1")) == AgentId("worker", "s1")
    with pytest.raises(CantHandleException):
        sub.map_to_agent(TopicId("nope", "s1"))
    assert sub.topic_type_prefix == "agent:"
    assert sub.agent_type == "worker"


# ---------------------------------------------------------------------------- equality


def test_type_subscription_equality() -> None:
    a = TypeSubscription("news", "reader", id="1")
    assert a == TypeSubscription("news", "reader", id="2")  # same agent type and topic type
    assert a == TypeSubscription("sports", "writer", id="1")  # same id
    assert a != TypeSubscription("news", "writer", id="3")
    assert a != TypeSubscription("sports", "reader", id="4")
    assert a != "1"
    assert a != object()


def test_type_prefix_subscription_equality() -> None:
    a = TypePrefixSubscription("x:", "reader", id="1")
    assert a == TypePrefixSubscription("x:", "reader", id="2")
    assert a == TypePrefixSubscription("y:", "other", id="1")
    assert a != TypePrefixSubscription("y:", "reader", id="3")


def test_type_and_prefix_subscriptions_are_never_equal() -> None:
    assert TypeSubscription("news", "reader") != TypePrefixSubscription("news", "reader")
    assert TypePrefixSubscription("news", "reader") != TypeSubscription("news", "reader")


# ---------------------------------------------------------------------------- DefaultSubscription


def test_default_subscription_outside_the_subscription_context() -> None:
    with pytest.raises(CantHandleException, match="subscription"):
        DefaultSubscription()
    sub = DefaultSubscription(agent_type="reader")
    assert (sub.topic_type, sub.agent_type) == ("default", "reader")
    assert DefaultSubscription("news", AgentType("reader")).topic_type == "news"


def test_default_subscription_inside_the_subscription_context() -> None:
    with SubscriptionInstantiationContext.populate_context(AgentType("reader")):
        sub = DefaultSubscription()
        news = DefaultSubscription(topic_type="news")
        explicit = DefaultSubscription(agent_type="other")
    assert (sub.topic_type, sub.agent_type) == ("default", "reader")
    assert (news.topic_type, news.agent_type) == ("news", "reader")
    assert explicit.agent_type == "other"
    assert isinstance(sub, TypeSubscription)
    assert sub.map_to_agent(DefaultTopicId()) == AgentId("reader", "default")


def test_default_subscription_equals_the_equivalent_type_subscription() -> None:
    a, b = DefaultSubscription(agent_type="reader"), DefaultSubscription(agent_type="reader")
    assert a.id != b.id  # a fresh id each time ...
    assert a == b  # ... but the same route
    assert a == TypeSubscription("default", "reader")


# ---------------------------------------------------------------------------- class decorators


@dataclass
class Note:
    text: str


class Recorder(RoutedAgent):
    received: list[tuple[str, str]] = []  # noqa: RUF012 - shared record, reset by each test

    def __init__(self) -> None:
        super().__init__("records notes")

    @event
    async def on_note(self, message: Note, ctx: MessageContext) -> None:
        Recorder.received.append((str(self.id), message.text))


@default_subscription
class BareDefault(Recorder):
    pass


@default_subscription()
class CalledDefault(Recorder):
    pass


@type_subscription(topic_type="news")
class NewsReader(Recorder):
    pass


class UndecoratedChildOfDefault(BareDefault):
    pass


class UndecoratedChildOfNews(NewsReader):
    pass


@type_subscription("sports")
class SportsChildOfNews(NewsReader):
    pass


@default_subscription
@type_subscription("news")
class DefaultAndNews(Recorder):
    pass


def _routes(runtime: SingleThreadedAgentRuntime, agent_type: str) -> set[tuple[str, str]]:
    """(kind, topic type or prefix) of every subscription for ``agent_type``."""
    routes = set()
    for sub in runtime._subscription_manager.subscriptions:
        if isinstance(sub, TypeSubscription) and sub.agent_type == agent_type:
            routes.add(("type", sub.topic_type))
        elif isinstance(sub, TypePrefixSubscription) and sub.agent_type == agent_type:
            routes.add(("prefix", sub.topic_type_prefix))
    return routes


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (BareDefault, {("type", "default")}),
        (CalledDefault, {("type", "default")}),
        (NewsReader, {("type", "news")}),
        (DefaultAndNews, {("type", "default"), ("type", "news")}),
        # Decorators belong to the class they decorate: subclasses do not inherit them.
        (UndecoratedChildOfDefault, set()),
        (UndecoratedChildOfNews, set()),
        (SportsChildOfNews, {("type", "sports")}),
        (Recorder, set()),
    ],
)
async def test_class_subscriptions_are_registered_for_the_registered_type(
    cls: type[Recorder], expected: set[tuple[str, str]]
) -> None:
    runtime = SingleThreadedAgentRuntime()
    await cls.register(runtime, "mytype", cls)
    assert _routes(runtime, "mytype") == expected | {("prefix", "mytype:")}


async def test_register_can_skip_class_and_direct_subscriptions() -> None:
    runtime = SingleThreadedAgentRuntime()
    await DefaultAndNews.register(runtime, "a", DefaultAndNews, skip_class_subscriptions=True)
    assert _routes(runtime, "a") == {("prefix", "a:")}
    await DefaultAndNews.register(runtime, "b", DefaultAndNews, skip_direct_message_subscription=True)
    assert _routes(runtime, "b") == {("type", "default"), ("type", "news")}


async def test_decorated_class_receives_published_messages_end_to_end() -> None:
    Recorder.received = []
    runtime = SingleThreadedAgentRuntime()
    await BareDefault.register(runtime, "bare", BareDefault)
    await UndecoratedChildOfDefault.register(runtime, "child", UndecoratedChildOfDefault)
    await NewsReader.register(runtime, "news", NewsReader)
    runtime.start()
    await runtime.publish_message(Note("d"), DefaultTopicId())
    await runtime.publish_message(Note("n"), TopicId("news", "s1"))
    await runtime.publish_message(Note("direct"), TopicId("child:anything", "k"))  # the direct-message prefix
    await runtime.stop_when_idle()
    assert sorted(Recorder.received) == [("bare/default", "d"), ("child/k", "direct"), ("news/s1", "n")]


async def test_async_subscription_factory_is_awaited_in_the_subscription_context() -> None:
    async def subscriptions() -> list[Subscription]:
        return [DefaultSubscription(topic_type="async-topic")]

    @subscription_factory(subscriptions)
    class AsyncSubscribed(Recorder):
        pass

    runtime = SingleThreadedAgentRuntime()
    await AsyncSubscribed.register(runtime, "asyncsub", AsyncSubscribed)
    assert _routes(runtime, "asyncsub") == {("type", "async-topic"), ("prefix", "asyncsub:")}


async def test_register_instance_subscribes_the_key_as_topic_type() -> None:
    runtime = SingleThreadedAgentRuntime()
    await BareDefault().register_instance(runtime, AgentId("inst", "alpha"))
    # Class subscriptions are skipped by default for instances.
    assert _routes(runtime, "inst") == {("type", "alpha"), ("prefix", "inst:")}
    # A second instance of the same type shares the direct-message subscription.
    await BareDefault().register_instance(runtime, AgentId("inst", "beta"), skip_class_subscriptions=False)
    assert _routes(runtime, "inst") == {("type", "alpha"), ("type", "beta"), ("type", "default"), ("prefix", "inst:")}


# ---------------------------------------------------------------------------- SubscriptionManager


def test_manager_add_duplicate_raises_and_keeps_the_first() -> None:
    manager = SubscriptionManager()
    first = TypeSubscription("news", "reader", id="1")
    manager.add_subscription(first)
    with pytest.raises(ValueError, match="already exists"):
        manager.add_subscription(TypeSubscription("news", "reader", id="2"))  # same route
    with pytest.raises(ValueError, match="already exists"):
        manager.add_subscription(TypeSubscription("other", "x", id="1"))  # same id
    with pytest.raises(ValueError, match="already exists"):
        manager.add_subscription(DefaultSubscription("news", "reader"))
    assert manager.subscriptions == [first]
    manager.add_subscription(TypePrefixSubscription("news", "reader"))  # another kind is another route
    assert len(manager.subscriptions) == 2


def test_manager_refuses_two_subscriptions_with_one_id_across_kinds() -> None:
    manager = SubscriptionManager()
    manager.add_subscription(TypeSubscription("news", "reader", id="same"))
    with pytest.raises(ValueError, match="already exists"):
        manager.add_subscription(TypePrefixSubscription("sports", "writer", id="same"))


def test_manager_remove_unknown_id_is_lookup_and_value_error() -> None:
    manager = SubscriptionManager()
    manager.add_subscription(TypeSubscription("news", "reader", id="1"))
    with pytest.raises(SubscriptionNotFoundError, match="does not exist") as info:
        manager.remove_subscription("nope")
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, ValueError)
    assert len(manager.subscriptions) == 1


def test_manager_remove_returns_the_subscription_and_allows_re_adding() -> None:
    manager = SubscriptionManager()
    sub = TypeSubscription("news", "reader", id="1")
    manager.add_subscription(sub)
    assert manager.remove_subscription("1") is sub
    assert manager.subscriptions == []
    with pytest.raises(LookupError):
        manager.remove_subscription("1")
    manager.add_subscription(TypeSubscription("news", "reader", id="1"))


async def test_remove_subscription_with_an_unknown_id_via_the_runtime() -> None:
    runtime = SingleThreadedAgentRuntime()
    with pytest.raises(LookupError):
        await runtime.remove_subscription("nope")
    with pytest.raises(ValueError):
        await runtime.remove_subscription("nope")


def test_manager_recipients_in_subscription_order() -> None:
    manager = SubscriptionManager()
    manager.add_subscription(TypeSubscription("news", "b"))
    manager.add_subscription(TypeSubscription("news", "a"))
    manager.add_subscription(TypeSubscription("sports", "c"))
    assert manager.recipients(TopicId("news", "s")) == (AgentId("b", "s"), AgentId("a", "s"))
    assert manager.recipients(TopicId("weather", "s")) == ()


def test_manager_recipients_are_deduplicated() -> None:
    manager = SubscriptionManager()
    manager.add_subscription(TypeSubscription("default", "lb"))
    manager.add_subscription(TypePrefixSubscription("def", "lb"))
    manager.add_subscription(TypePrefixSubscription("d", "other"))
    manager.add_subscription(TypePrefixSubscription("de", "lb"))
    assert manager.recipients(TopicId("default", "k")) == (AgentId("lb", "k"), AgentId("other", "k"))


async def test_get_subscribed_recipients_returns_a_fresh_list() -> None:
    manager = SubscriptionManager()
    manager.add_subscription(TypeSubscription("news", "a"))
    first = await manager.get_subscribed_recipients(TopicId("news", "s"))
    assert first == [AgentId("a", "s")]
    first.append(AgentId("intruder", "x"))
    assert await manager.get_subscribed_recipients(TopicId("news", "s")) == [AgentId("a", "s")]


def test_manager_cache_is_invalidated_on_add_and_remove() -> None:
    manager = SubscriptionManager()
    topic = TopicId("news", "s")
    assert manager.recipients(topic) == ()  # cached as "nobody"
    manager.add_subscription(TypeSubscription("news", "a", id="a"))
    assert manager.recipients(topic) == (AgentId("a", "s"),)
    manager.add_subscription(TypePrefixSubscription("ne", "b", id="b"))
    assert manager.recipients(topic) == (AgentId("a", "s"), AgentId("b", "s"))
    manager.remove_subscription("a")
    assert manager.recipients(topic) == (AgentId("b", "s"),)
    manager.remove_subscription("b")
    assert manager.recipients(topic) == ()


def test_manager_cache_distinguishes_sources() -> None:
    manager = SubscriptionManager()
    manager.add_subscription(TypeSubscription("news", "a"))
    assert manager.recipients(TopicId("news", "s1")) == (AgentId("a", "s1"),)
    assert manager.recipients(TopicId("news", "s2")) == (AgentId("a", "s2"),)
    assert manager.recipients(TopicId("news", "s1")) == (AgentId("a", "s1"),)


def test_manager_stays_correct_past_its_cache_limit() -> None:
    manager = SubscriptionManager()
    manager.add_subscription(TypeSubscription("news", "a"))
    for i in range(_CACHE_LIMIT + 10):
        assert manager.recipients(TopicId("news", str(i))) == (AgentId("a", str(i)),)
    assert len(manager._cache) <= _CACHE_LIMIT
    assert manager.recipients(TopicId("news", "0")) == (AgentId("a", "0"),)


async def test_overlapping_subscriptions_deliver_once_per_agent() -> None:
    Recorder.received = []
    runtime = SingleThreadedAgentRuntime()
    await Recorder.register(runtime, "lb", Recorder)
    await runtime.add_subscription(TypeSubscription("default", "lb"))
    await runtime.add_subscription(TypePrefixSubscription("def", "lb"))
    runtime.start()
    await runtime.publish_message(Note("once"), DefaultTopicId())
    await runtime.stop_when_idle()
    assert Recorder.received == [("lb/default", "once")]


async def test_delivery_stops_after_remove_subscription() -> None:
    Recorder.received = []
    runtime = SingleThreadedAgentRuntime()
    await Recorder.register(runtime, "r", Recorder, skip_direct_message_subscription=True)
    news = TypeSubscription("news", "r")
    await runtime.add_subscription(news)
    await runtime.add_subscription(TypeSubscription("sports", "r"))
    runtime.start()
    await runtime.publish_message(Note("n1"), TopicId("news", "k"))
    await runtime.stop_when_idle()
    await runtime.remove_subscription(news.id)
    runtime.start()
    await runtime.publish_message(Note("n2"), TopicId("news", "k"))
    await runtime.publish_message(Note("s1"), TopicId("sports", "k"))
    await runtime.stop_when_idle()
    assert Recorder.received == [("r/k", "n1"), ("r/k", "s1")]


def _broken_subscriptions() -> list[Subscription]:
    raise RuntimeError("subscription callback failed")


@subscription_factory(_broken_subscriptions)
class BrokenSubscriptions(Recorder):
    pass


async def test_failing_subscription_callback_leaves_nothing_registered() -> None:
    runtime = SingleThreadedAgentRuntime()
    with pytest.raises(RuntimeError, match="subscription callback failed"):
        await BrokenSubscriptions.register(runtime, "broken", BrokenSubscriptions)
    assert runtime._subscription_manager.subscriptions == []
    # The type is still free: a corrected registration under the same name succeeds.
    await Recorder.register(runtime, "broken", Recorder)
    # Skipping class subscriptions never evaluates the callback.
    await BrokenSubscriptions.register(runtime, "broken2", BrokenSubscriptions, skip_class_subscriptions=True)
