"""Agents and messages shared by the test process and the worker processes it starts."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actorgen_core import AgentId, MessageContext, RoutedAgent, message_handler, try_get_known_serializers_for_type


@dataclass
class Ping:
    n: int
    sleep: float = 0.0


@dataclass
class Pong:
    n: int
    pid: int
    key: str


@dataclass
class Fail:
    text: str


@dataclass
class Unhandled:
    pass


@dataclass
class Nothing:
    pass


@dataclass
class Sleep:
    seconds: float
    marker: str  # a file written when the handler is cancelled


@dataclass
class Tick:
    seq: int


@dataclass
class GetTicks:
    pass


@dataclass
class Ticks:
    count: int
    in_order: bool
    pid: int


@dataclass
class Stats:
    handled: int
    max_concurrent: int
    pid: int


@dataclass
class GetStats:
    pass


@dataclass
class Bounce:
    back_to: str  # "type/key" of the agent to call back
    depth: int


@dataclass
class Back:
    depth: int


@dataclass
class Trail:
    steps: list[str] = field(default_factory=list)


MESSAGE_TYPES: list[type] = [Ping, Pong, Fail, Unhandled, Nothing, Sleep, Tick, GetTicks, Ticks, Stats, GetStats]
MESSAGE_TYPES += [Bounce, Back, Trail]


def add_serializers(runtime: object) -> None:
    for cls in MESSAGE_TYPES:
        runtime.add_message_serializer(try_get_known_serializers_for_type(cls))  # type: ignore[attr-defined]


class Echo(RoutedAgent):
    """Answers requests; counts how many turns ever ran at once (must stay 1)."""

    def __init__(self) -> None:
        super().__init__("echo")
        self.handled = 0
        self.running = 0
        self.max_concurrent = 0

    async def save_state(self) -> Mapping[str, Any]:
        return {"handled": self.handled}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.handled = int(state["handled"])

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
        self.running += 1
        self.max_concurrent = max(self.max_concurrent, self.running)
        try:
            if message.sleep:
                await asyncio.sleep(message.sleep)
            self.handled += 1
            return Pong(message.n, os.getpid(), self.id.key)
        finally:
            self.running -= 1

    @message_handler
    async def on_fail(self, message: Fail, ctx: MessageContext) -> Pong:
        raise KeyError(message.text)

    @message_handler
    async def on_nothing(self, message: Nothing, ctx: MessageContext) -> None:
        return None

    @message_handler
    async def on_sleep(self, message: Sleep, ctx: MessageContext) -> None:
        try:
            await asyncio.sleep(message.seconds)
        except asyncio.CancelledError:
            Path(message.marker).write_text(f"cancelled token={ctx.cancellation_token.is_cancelled()}")
            raise

    @message_handler
    async def on_stats(self, message: GetStats, ctx: MessageContext) -> Stats:
        return Stats(self.handled, self.max_concurrent, os.getpid())


class Subscriber(RoutedAgent):
    """Records published ticks."""

    def __init__(self) -> None:
        super().__init__("subscriber")
        self.seqs: list[int] = []

    @message_handler
    async def on_tick(self, message: Tick, ctx: MessageContext) -> None:
        self.seqs.append(message.seq)

    @message_handler
    async def on_get(self, message: GetTicks, ctx: MessageContext) -> Ticks:
        in_order = all(a < b for a, b in zip(self.seqs, self.seqs[1:], strict=False))
        return Ticks(len(self.seqs), in_order, os.getpid())


class Bouncer(RoutedAgent):
    """Calls back the agent that asked it, while that agent waits: A -> B -> A."""

    def __init__(self) -> None:
        super().__init__("bouncer")

    @message_handler
    async def on_bounce(self, message: Bounce, ctx: MessageContext) -> Trail:
        reply = await self.send_message(Back(message.depth), AgentId.from_str(message.back_to))
        assert isinstance(reply, Trail)
        return Trail([f"bouncer/{self.id.key}", *reply.steps])
