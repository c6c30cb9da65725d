"""Import path kept for code written against ``autogen_core._closure_agent``."""

from .components._closure_agent import (
    ClosureAgent,
    ClosureContext,
)

__all__ = [
    "ClosureAgent",
    "ClosureContext",
]
