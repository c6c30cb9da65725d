"""Shopping carts as virtual actors: state in SQLite, idle carts deactivated, a reminder that
survives a restart, and a timer.

Each user's cart is an agent (``cart/<user>``). Carts that see no message for a while are
dropped from memory and come back, with their items, on their next message. Adding an
item sets a reminder to nudge the user if the cart is left alone; the reminder is stored,
so it fires even though the process that set it has stopped: the second "process" below
(a new runtime on the same database file) delivers it. Checking out cancels the reminder
and starts a timer (timers live and die with the activation) that says thank you.

Run it with:  uv run python samples/shopping_cart.py            (real time, about 3 s)
              uv run python samples/shopping_cart.py --virtual  (virtual clock, instant)
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actorgen_core import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler
from actorgen_core.application import SqliteStateStore, run_with_virtual_clock

IDLE_TIMEOUT = 0.5  # seconds without a message before a cart leaves memory
NUDGE_AFTER = 1.5  # seconds a cart may sit untouched before its user is nudged


@dataclass
class AddItem:
    item: str


@dataclass
class Checkout:
    pass


@dataclass
class Receipt:
    items: list[str]


@dataclass
class Nudge:
    pass


@dataclass
class ThankYou:
    pass


class Cart(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("a shopping cart")
        self.items: list[str] = []

    async def on_activate(self) -> None:
        print(f"{self.id.key}: cart activated with {len(self.items)} item(s)")

    async def on_deactivate(self) -> None:
        print(f"{self.id.key}: cart deactivated")

    @message_handler
    async def on_add(self, message: AddItem, ctx: MessageContext) -> None:
        self.items.append(message.item)
        await self.set_reminder("nudge", Nudge(), NUDGE_AFTER)  # the same name replaces it

    @message_handler
    async def on_checkout(self, message: Checkout, ctx: MessageContext) -> Receipt:
        receipt = Receipt(self.items)
        self.items = []
        await self.cancel_reminder("nudge")
        self.schedule(ThankYou(), 0.1)
        return receipt

    @message_handler
    async def on_nudge(self, message: Nudge, ctx: MessageContext) -> None:
        print(f"{self.id.key}: reminder: you left {', '.join(self.items)} in your cart")

    @message_handler
    async def on_thank_you(self, message: ThankYou, ctx: MessageContext) -> None:
        print(f"{self.id.key}: thank you for your order")

    async def save_state(self) -> Mapping[str, Any]:
        return {"items": self.items}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.items = list(state["items"])


async def a_process_lifetime(database: Path, work: bool) -> None:
    store = SqliteStateStore(database)
    runtime = SingleThreadedAgentRuntime(state_store=store, idle_timeout=IDLE_TIMEOUT)
    await Cart.register(runtime, "cart", Cart)
    runtime.start()
    if work:
        await runtime.send_message(AddItem("a book"), AgentId("cart", "alice"))
        await runtime.send_message(AddItem("a pen"), AgentId("cart", "bob"))
        receipt = await runtime.send_message(Checkout(), AgentId("cart", "bob"))
        print(f"bob: bought {', '.join(receipt.items)}")
        await asyncio.sleep(2 * IDLE_TIMEOUT)  # both carts go idle and leave memory
        print("-- the process stops before alice's reminder is due")
    else:
        await asyncio.sleep(2 * NUDGE_AFTER)  # the stored reminder comes due, alice's cart comes back
    await runtime.close()
    await store.close()


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "carts.db"
        await a_process_lifetime(database, work=True)
        print("-- a new process starts on the same database")
        await a_process_lifetime(database, work=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--virtual", action="store_true", help="run on the virtual clock (no waiting)")
    if parser.parse_args().virtual:
        run_with_virtual_clock(main())
    else:
        asyncio.run(main())
