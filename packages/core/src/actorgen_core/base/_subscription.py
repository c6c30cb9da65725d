from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from ._agent_id import AgentId
from ._topic import TopicId


@runtime_checkable
class Subscription(Protocol):
    """Maps the topics it matches to the agent that receives them."""

    @property
    def id(self) -> str:
        """Unique id of this subscription within a runtime."""
        ...

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Subscription):
            return False
        return self.id == other.id

    def is_match(self, topic_id: TopicId) -> bool: ...

    def map_to_agent(self, topic_id: TopicId) -> AgentId:
        """The recipient for a matching topic; raises CantHandleException otherwise."""
        ...


UnboundSubscription = Callable[[], list[Subscription] | Awaitable[list[Subscription]]]
