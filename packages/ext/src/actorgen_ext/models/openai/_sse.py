"""A Server-Sent Events decoder (the subset chat-completion servers use).

It is fed lines without their terminators (``httpx`` splits on ``\\n``, ``\\r\\n`` and ``\\r``)
and yields one :class:`ServerSentEvent` per blank-line-terminated block. ``data:`` lines of
one block are joined with ``\\n``; lines starting with ``:`` are comments (keep-alives);
unknown fields are ignored, as the specification asks.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ServerSentEvent", "SSEDecoder"]


@dataclass(frozen=True)
class ServerSentEvent:
    data: str
    event: str | None = None
    id: str | None = None


class SSEDecoder:
    def __init__(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """Take one line; return an event when the line completes one."""
        if line == "":
            return self.flush()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        return None

    def flush(self) -> ServerSentEvent | None:
        """End the current block (a blank line, or the end of the stream)."""
        if not self._data and self._event is None:
            return None
        event = ServerSentEvent(data="\n".join(self._data), event=self._event, id=self._id)
        self._data = []
        self._event = None
        return event
