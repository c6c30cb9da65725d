from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from ._validation import check_key, check_topic_type


@dataclass(eq=False, frozen=True)
class TopicId:
    """Where a published message goes: a topic ``type`` (what) and a ``source`` (which context).

    ``type`` and ``source`` correspond to the CloudEvents attributes of the same names.
    """

    type: str
    source: str

    def __post_init__(self) -> None:
        check_topic_type(self.type)
        check_key(self.source, "topic source")

    def __eq__(self, other: object) -> bool:
        # By value, whatever the class: DefaultTopicId() equals TopicId("default", "default").
        if not isinstance(other, TopicId):
            return NotImplemented
        return self.type == other.type and self.source == other.source

    def __hash__(self) -> int:
        return hash((self.type, self.source))

    def __str__(self) -> str:
        return f"{self.type}/{self.source}"

    @classmethod
    def from_str(cls, topic_id: str) -> Self:
        """Parse ``"type/source"``; the source is everything after the first ``/``."""
        if not isinstance(topic_id, str) or "/" not in topic_id:
            raise ValueError(f"Invalid topic id {topic_id!r}: expected 'type/source'")
        type_, source = topic_id.split("/", 1)
        return cls(type_, source)
