"""Import path kept for code written against ``autogen_core._agent_id``."""

from .base._agent_id import (
    AgentId,
)

__all__ = [
    "AgentId",
]
