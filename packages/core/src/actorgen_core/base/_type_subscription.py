from __future__ import annotations

from ._agent_type import AgentType
from ._topic import TopicId
from ._topic_route import TopicRoute


class TypeSubscription(TopicRoute):
    """Topics of exactly ``topic_type`` go to ``AgentId(agent_type, topic.source)``."""

    def __init__(self, topic_type: str, agent_type: str | AgentType, id: str | None = None) -> None:
        super().__init__(topic_type, agent_type, id)

    @property
    def topic_type(self) -> str:
        return self._pattern

    def is_match(self, topic_id: TopicId) -> bool:
        return topic_id.type == self._pattern

    def _family(self) -> type[TopicRoute]:
        return TypeSubscription

    def __repr__(self) -> str:
        return f"TypeSubscription(topic_type={self._pattern!r}, agent_type={self._agent_type!r}, id={self._id!r})"
