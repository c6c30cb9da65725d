from __future__ import annotations

from typing import TypedDict


class AgentMetadata(TypedDict):
    type: str
    key: str
    description: str
