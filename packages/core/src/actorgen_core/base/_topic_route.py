"""What TypeSubscription and TypePrefixSubscription share: a topic pattern mapped to an agent type."""

from __future__ import annotations

import uuid

from ._agent_id import AgentId
from ._agent_type import AgentType
from ._subscription import Subscription
from ._topic import TopicId
from ._validation import check_agent_type, check_topic_type
from .exceptions import CantHandleException


class TopicRoute(Subscription):
    """Matching topics go to ``AgentId(agent_type, topic.source)``; subclasses say what matches.

    Two routes are equal when they have the same id, or the same class family, pattern and
    agent type (so the same route is not added twice under different ids).
    """

    def __init__(self, pattern: str, agent_type: str | AgentType, id: str | None) -> None:
        if isinstance(agent_type, AgentType):
            agent_type = agent_type.type
        self._pattern = check_topic_type(pattern)
        self._agent_type = check_agent_type(agent_type)
        self._id = id or str(uuid.uuid4())

    @property
    def id(self) -> str:
        return self._id

    @property
    def agent_type(self) -> str:
        return self._agent_type

    def is_match(self, topic_id: TopicId) -> bool:
        raise NotImplementedError

    def map_to_agent(self, topic_id: TopicId) -> AgentId:
        if not self.is_match(topic_id):
            raise CantHandleException(f"TopicId {topic_id} does not match subscription {self!r}")
        return AgentId(self._agent_type, topic_id.source)

    def _family(self) -> type[TopicRoute]:
        """The class whose instances can equal this one (subclasses such as DefaultSubscription included)."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        family = self._family()
        if not isinstance(other, family):
            return False
        return self._id == other._id or (self._agent_type == other._agent_type and self._pattern == other._pattern)

    def __hash__(self) -> int:
        return hash((self._agent_type, self._pattern))
