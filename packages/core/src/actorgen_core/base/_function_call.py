"""The function call a model asks for."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FunctionCall"]


@dataclass
class FunctionCall:
    """A request, produced by a model, to call the tool ``name`` with JSON-encoded ``arguments``."""

    id: str
    """Identifier the result must echo (``FunctionExecutionResult.call_id``)."""
    arguments: str
    """The arguments as JSON text, exactly as the model produced them (possibly invalid)."""
    name: str
