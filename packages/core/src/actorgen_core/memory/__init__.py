"""Memory: stores of facts an agent can query and add to a model context."""

from ..base._public_module import set_public_module
from ._base_memory import Memory, MemoryContent, MemoryMimeType, MemoryQueryResult, UpdateContextResult
from ._list_memory import ListMemory

__all__ = ["Memory", "MemoryContent", "MemoryQueryResult", "UpdateContextResult", "MemoryMimeType", "ListMemory"]

set_public_module(__name__, globals())
