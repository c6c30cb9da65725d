"""register_function: one function, offered by one agent's model and executed by another agent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._conversable_agent import ConversableAgent


def register_function(
    f: Callable[..., Any],
    *,
    caller: ConversableAgent,
    executor: ConversableAgent,
    name: str | None = None,
    description: str,
) -> None:
    """Offer ``f`` as a tool to ``caller``'s model, and let ``executor`` run it when asked."""
    caller.register_for_llm(name=name, description=description)(f)
    executor.register_for_execution(name=name)(f)
