"""Which agents receive a topic: the ordered subscription list plus a bounded lookup cache."""

from __future__ import annotations

from ..base import AgentId, Subscription, TopicId

_CACHE_LIMIT = 10_000


class SubscriptionNotFoundError(LookupError, ValueError):
    """No subscription has the given id (a LookupError; also a ValueError for autogen code)."""


class SubscriptionManager:
    """Keeps subscriptions in insertion order and answers "who receives this topic?".

    Each agent appears at most once per topic, however many of its subscriptions match.
    Answers are cached per (topic type, source); the cache is emptied whenever the
    subscriptions change and never grows beyond 10 000 topics.
    """

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._cache: dict[tuple[str, str], tuple[AgentId, ...]] = {}

    @property
    def subscriptions(self) -> list[Subscription]:
        return list(self._subscriptions)

    def add_subscription(self, subscription: Subscription) -> None:
        for existing in self._subscriptions:
            if existing.id == subscription.id or existing == subscription:
                raise ValueError(
                    f"Subscription already exists: {subscription!r} (same id or same route as {existing!r})"
                )
        self._subscriptions.append(subscription)
        self._cache.clear()

    def remove_subscription(self, id: str) -> Subscription:
        for index, existing in enumerate(self._subscriptions):
            if existing.id == id:
                del self._subscriptions[index]
                self._cache.clear()
                return existing
        raise SubscriptionNotFoundError(f"Subscription does not exist: {id!r}")

    def recipients(self, topic: TopicId) -> tuple[AgentId, ...]:
        key = (topic.type, topic.source)
        found = self._cache.get(key)
        if found is None:
            seen: dict[AgentId, None] = {}
            for subscription in self._subscriptions:
                if subscription.is_match(topic):
                    seen[subscription.map_to_agent(topic)] = None
            found = tuple(seen)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = found
        return found

    async def get_subscribed_recipients(self, topic: TopicId) -> list[AgentId]:
        return list(self.recipients(topic))
