from __future__ import annotations

from ._agent_type import AgentType
from ._topic import TopicId
from ._topic_route import TopicRoute


class TypePrefixSubscription(TopicRoute):
    """Topics whose type starts with ``topic_type_prefix`` go to ``AgentId(agent_type, topic.source)``."""

    def __init__(self, topic_type_prefix: str, agent_type: str | AgentType, id: str | None = None) -> None:
        super().__init__(topic_type_prefix, agent_type, id)

    @property
    def topic_type_prefix(self) -> str:
        return self._pattern

    def is_match(self, topic_id: TopicId) -> bool:
        return topic_id.type.startswith(self._pattern)

    def _family(self) -> type[TopicRoute]:
        return TypePrefixSubscription

    def __repr__(self) -> str:
        return (
            f"TypePrefixSubscription(topic_type_prefix={self._pattern!r}, "
            f"agent_type={self._agent_type!r}, id={self._id!r})"
        )
