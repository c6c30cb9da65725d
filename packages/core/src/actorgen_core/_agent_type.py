"""Import path kept for code written against ``autogen_core._agent_type``."""

from .base._agent_type import (
    AgentType,
)

__all__ = [
    "AgentType",
]
