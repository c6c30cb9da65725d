"""The ``Agent`` protocol: what every participant of a conversation offers."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Agent(Protocol):
    """Anything that can take part in a conversation (v0.2's ``autogen.Agent``)."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def send(self, message: dict[str, Any] | str, recipient: Any, request_reply: bool | None = None) -> None: ...

    async def a_send(
        self, message: dict[str, Any] | str, recipient: Any, request_reply: bool | None = None
    ) -> None: ...

    def generate_reply(
        self, messages: list[dict[str, Any]] | None = None, sender: Any = None, **kwargs: Any
    ) -> str | dict[str, Any] | None: ...

    async def a_generate_reply(
        self, messages: list[dict[str, Any]] | None = None, sender: Any = None, **kwargs: Any
    ) -> str | dict[str, Any] | None: ...
