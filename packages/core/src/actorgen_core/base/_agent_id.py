from __future__ import annotations

from typing import Self

from ._agent_type import AgentType
from ._validation import check_agent_type, check_key


class AgentId:
    """Identifies one agent: its registered ``type`` and an instance ``key``.

    The type follows the agent-type rule (letters, digits, ``_ - .``); the key may be any
    text without control characters or line breaks, ``/`` included, up to 512 characters.
    """

    __slots__ = ("_hash", "_key", "_type")

    def __init__(self, type: str | AgentType, key: str) -> None:
        if isinstance(type, AgentType):
            type = type.type
        self._type = check_agent_type(type)
        self._key = check_key(key, "agent key")
        self._hash = hash((self._type, self._key))

    @classmethod
    def from_str(cls, agent_id: str) -> Self:
        """Parse ``"type/key"``; the key is everything after the first ``/``."""
        if not isinstance(agent_id, str) or "/" not in agent_id:
            raise ValueError(f"Invalid agent id {agent_id!r}: expected 'type/key'")
        type_, key = agent_id.split("/", 1)
        return cls(type_, key)

    @property
    def type(self) -> str:
        return self._type

    @property
    def key(self) -> str:
        return self._key

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, value: object) -> bool:
        if not isinstance(value, AgentId):
            return False
        return self._type == value._type and self._key == value._key

    def __str__(self) -> str:
        return f"{self._type}/{self._key}"

    def __repr__(self) -> str:
        return f'AgentId(type="{self._type}", key="{self._key}")'
