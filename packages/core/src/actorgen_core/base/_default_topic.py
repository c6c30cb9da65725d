from __future__ import annotations

from ._contexts import CURRENT_FRAME
from ._topic import TopicId


class DefaultTopicId(TopicId):
    """``TopicId("default", source)``; inside a handler the source defaults to the agent's key."""

    def __init__(self, type: str = "default", source: str | None = None) -> None:
        if source is None:
            frame = CURRENT_FRAME.get(None)
            source = frame.agent_id.key if frame is not None and frame.agent_id is not None else "default"
        super().__init__(type, source)
