from __future__ import annotations

import uuid

from ._agent_id import AgentId
from ._agent_type import AgentType
from ._subscription import Subscription
from ._topic import TopicId
from ._validation import check_agent_type, check_topic_type
from .exceptions import CantHandleException


class TypeSubscription(Subscription):
    """Topics of exactly ``topic_type`` go to ``AgentId(agent_type, topic.source)``."""

    def __init__(self, topic_type: str, agent_type: str | AgentType, id: str | None = None) -> None:
        if isinstance(agent_type, AgentType):
            agent_type = agent_type.type
        self._topic_type = check_topic_type(topic_type)
        self._agent_type = check_agent_type(agent_type)
        self._id = id or str(uuid.uuid4())

    @property
    def id(self) -> str:
        return self._id

    @property
    def topic_type(self) -> str:
        return self._topic_type

    @property
    def agent_type(self) -> str:
        return self._agent_type

    def is_match(self, topic_id: TopicId) -> bool:
        return topic_id.type == self._topic_type

    def map_to_agent(self, topic_id: TopicId) -> AgentId:
        if topic_id.type != self._topic_type:
            raise CantHandleException(f"TopicId {topic_id} does not match subscription {self!r}")
        return AgentId(self._agent_type, topic_id.source)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TypeSubscription):
            return False
        return self._id == other._id or (
            self._agent_type == other._agent_type and self._topic_type == other._topic_type
        )

    def __hash__(self) -> int:
        return hash((self._agent_type, self._topic_type))

    def __repr__(self) -> str:
        return f"TypeSubscription(topic_type={self._topic_type!r}, agent_type={self._agent_type!r}, id={self._id!r})"
