from __future__ import annotations

from dataclasses import dataclass


@dataclass(eq=True, frozen=True)
class AgentType:
    """The name under which a factory (or instance kind) is registered with a runtime."""

    type: str
