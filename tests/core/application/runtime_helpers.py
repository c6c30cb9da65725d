"""Small agents and messages used by the runtime-semantics tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import ClassVar

from actorgen_core import MessageContext, RoutedAgent, message_handler


@dataclass
class Ping:
    n: int = 0


@dataclass
class Pong:
    n: int = 0


@dataclass
class Slow:
    seconds: float
    tag: str = ""


@dataclass
class Done:
    tag: str = ""


@dataclass
class Event:
    value: str = ""


@dataclass
class Log:
    entries: list[str] = field(default_factory=list)


class Echo(RoutedAgent):
    """Answers Ping with Pong(n + 1)."""

    def __init__(self) -> None:
        super().__init__("echo")

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
        return Pong(message.n + 1)


class Sleeper(RoutedAgent):
    """Sleeps for Slow.seconds and records when each message started and ended."""

    active: ClassVar[int] = 0
    max_active: ClassVar[int] = 0
    started: ClassVar[list[str]] = []
    finished: ClassVar[list[str]] = []

    def __init__(self) -> None:
        super().__init__("sleeper")

    @message_handler
    async def on_slow(self, message: Slow, ctx: MessageContext) -> Done:
        cls = type(self)
        cls.active += 1
        cls.max_active = max(cls.max_active, cls.active)
        cls.started.append(message.tag)
        try:
            await asyncio.sleep(message.seconds)
        finally:
            cls.active -= 1
        cls.finished.append(message.tag)
        return Done(message.tag)

    @classmethod
    def reset(cls) -> None:
        cls.active = 0
        cls.max_active = 0
        cls.started = []
        cls.finished = []
