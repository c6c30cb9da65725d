from __future__ import annotations

from typing import Any, Protocol, final

from ._agent_id import AgentId
from ._message_context import MessageContext


@final
class DropMessage:
    """Return this class (or an instance) from an intervention hook to drop the message."""


class InterventionHandler(Protocol):
    """Sees (and may replace or drop) every message a runtime delivers.

    Handlers run in list order, each seeing the previous handler's result.
    """

    async def on_send(
        self, message: Any, *, message_context: MessageContext, recipient: AgentId
    ) -> Any | type[DropMessage]: ...

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any | type[DropMessage]: ...

    async def on_response(
        self, message: Any, *, sender: AgentId, recipient: AgentId | None
    ) -> Any | type[DropMessage]: ...


class DefaultInterventionHandler(InterventionHandler):
    """Passes everything through unchanged; subclass it and override what you need."""

    async def on_send(
        self, message: Any, *, message_context: MessageContext, recipient: AgentId
    ) -> Any | type[DropMessage]:
        return message

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any | type[DropMessage]:
        return message

    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any | type[DropMessage]:
        return message
