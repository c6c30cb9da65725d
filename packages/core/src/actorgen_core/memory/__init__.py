"""Memory: stores of facts an agent can query and add to a model context."""

from ..components._memory.list_memory import ListMemory
from ..components._memory.memory import (
    Memory,
    MemoryContent,
    MemoryMimeType,
    MemoryQueryResult,
    UpdateContextResult,
)

__all__ = ["Memory", "MemoryContent", "MemoryQueryResult", "UpdateContextResult", "MemoryMimeType", "ListMemory"]
