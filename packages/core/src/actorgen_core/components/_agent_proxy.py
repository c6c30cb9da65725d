from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any

from ..base import AgentId, AgentMetadata, AgentRuntime, CancellationToken


class AgentProxy:
    """A handle to one agent through a runtime."""

    def __init__(self, agent: AgentId, runtime: AgentRuntime) -> None:
        self._agent = agent
        self._runtime = runtime

    @property
    def id(self) -> AgentId:
        return self._agent

    @property
    def metadata(self) -> Awaitable[AgentMetadata]:
        return self._runtime.agent_metadata(self._agent)

    async def send_message(
        self,
        message: Any,
        *,
        sender: AgentId,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        return await self._runtime.send_message(
            message,
            recipient=self._agent,
            sender=sender,
            cancellation_token=cancellation_token,
            message_id=message_id,
        )

    async def save_state(self) -> Mapping[str, Any]:
        return await self._runtime.agent_save_state(self._agent)

    async def load_state(self, state: Mapping[str, Any]) -> None:
        await self._runtime.agent_load_state(self._agent, state)
