"""Where agents' state lives between activations: the store protocol and an in-memory store.

A store keeps, per AgentId, the agent's state as JSON text and a version number. Every
write names the version it read (``expected_version``; 0 for "nothing stored yet") and
fails with ``StateVersionConflict`` if the stored version is another: an activation that
was loaded from an older version (a stale copy on another worker, or an instance that
lost a race) can never overwrite newer state. The runtime encodes state with
``encode_state``; nothing is ever pickled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from ..base import AgentId

if TYPE_CHECKING:
    from ._scheduling import Reminder


class StateVersionConflict(Exception):
    """A write named a version that is not the stored one: newer state exists (or the
    state was deleted). The writer's copy is stale and must not overwrite it."""


class StoredState(NamedTuple):
    """An agent's state as stored: JSON text and its version (1 for the first write)."""

    json: str
    version: int

    @property
    def state(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.json)
        return decoded


@runtime_checkable
class StateStore(Protocol):
    """Durable per-agent state with optimistic concurrency.

    ``put`` writes ``state_json`` if the stored version equals ``expected_version`` (0:
    nothing may be stored yet) and returns the new version; otherwise it raises
    ``StateVersionConflict`` and changes nothing. ``delete`` removes the state (only if
    the version matches, when one is given). ``get`` returns None for an agent that has
    nothing stored.
    """

    async def get(self, agent_id: AgentId) -> StoredState | None: ...

    async def put(self, agent_id: AgentId, state_json: str, expected_version: int) -> int: ...

    async def delete(self, agent_id: AgentId, expected_version: int | None = None) -> None: ...


def encode_state(agent_id: AgentId, state: Mapping[str, Any], *, verify: bool = True) -> str:
    """``state`` as canonical JSON text (sorted keys), or TypeError if JSON cannot hold it
    exactly: objects it cannot encode, NaN and infinities, and (with ``verify``) values that
    would come back different (tuples, non-string keys). Callers that only compare the text
    with what they stored before verify only text that differs (``verify_state``)."""
    if not isinstance(state, Mapping):
        raise TypeError(f"save_state() of {agent_id} returned {type(state).__name__}, not a mapping")
    try:
        text = json.dumps(state, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"The state of {agent_id} cannot be stored as JSON: {e}") from None
    if verify:
        verify_state(agent_id, state, text)
    return text


def verify_state(agent_id: AgentId, state: Mapping[str, Any], text: str) -> None:
    """TypeError unless ``text`` decodes to exactly ``state``."""
    if json.loads(text) != dict(state):
        raise TypeError(
            f"The state of {agent_id} would not survive JSON unchanged (tuples come back as lists, "
            "non-string keys as strings); store lists and string keys"
        )


class InMemoryStateStore:
    """A StateStore in a dict: for tests, and for processes that only need state to survive
    deactivation (not a restart)."""

    def __init__(self) -> None:
        self._rows: dict[AgentId, StoredState] = {}
        self._reminders: dict[tuple[AgentId, str], Reminder] = {}

    async def get(self, agent_id: AgentId) -> StoredState | None:
        return self._rows.get(agent_id)

    async def put(self, agent_id: AgentId, state_json: str, expected_version: int) -> int:
        current = self._rows.get(agent_id)
        version = 0 if current is None else current.version
        if version != expected_version:
            raise StateVersionConflict(
                f"State of {agent_id} is at version {version}, the writer read version {expected_version}"
            )
        self._rows[agent_id] = StoredState(state_json, version + 1)
        return version + 1

    async def delete(self, agent_id: AgentId, expected_version: int | None = None) -> None:
        current = self._rows.get(agent_id)
        if current is None:
            return
        if expected_version is not None and current.version != expected_version:
            raise StateVersionConflict(
                f"State of {agent_id} is at version {current.version}, the deleter read version {expected_version}"
            )
        del self._rows[agent_id]

    def __len__(self) -> int:
        return len(self._rows)

    async def put_reminder(self, reminder: Reminder) -> None:
        self._reminders[(reminder.agent_id, reminder.name)] = reminder

    async def delete_reminder(self, agent_id: AgentId, name: str, due: float | None = None) -> None:
        current = self._reminders.get((agent_id, name))
        if current is not None and (due is None or current.due == due):
            del self._reminders[(agent_id, name)]

    async def load_reminders(self) -> list[Reminder]:
        return list(self._reminders.values())


__all__ = ["InMemoryStateStore", "StateStore", "StateVersionConflict", "StoredState", "encode_state", "verify_state"]
