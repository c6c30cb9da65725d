"""Publishes across processes (exactly once, in order) and call chains that cross workers."""

from __future__ import annotations

import asyncio
import time

from actorgen_core import (
    AgentId,
    DefaultSubscription,
    MessageContext,
    RoutedAgent,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
    message_handler,
)

from .agents import Back, Bounce, GetTicks, Tick, Ticks, Trail
from .conftest import Cluster


async def wait_ticks(runtime: object, agent: AgentId, count: int, timeout: float = 30.0) -> Ticks:
    deadline = time.monotonic() + timeout
    while True:
        ticks = await runtime.send_message(GetTicks(), agent, timeout=10)  # type: ignore[attr-defined]
        assert isinstance(ticks, Ticks)
        if ticks.count >= count or time.monotonic() > deadline:
            return ticks
        await asyncio.sleep(0.05)


class LocalSubscriber(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("local subscriber")
        self.seqs: list[int] = []

    @message_handler
    async def on_tick(self, message: Tick, ctx: MessageContext) -> None:
        self.seqs.append(message.seq)


async def test_20000_publishes_arrive_once_and_in_order_on_another_worker(cluster: Cluster) -> None:
    _, address = cluster.start_host()
    remote = cluster.start_worker(address, "sub")
    publisher = cluster.worker(address)
    await publisher.start()
    await LocalSubscriber.register(publisher, "local_sub", LocalSubscriber, skip_class_subscriptions=True)
    await publisher.add_subscription(TypeSubscription("fan", "local_sub"))

    total = 20_000
    for seq in range(total):
        await publisher.publish_message(Tick(seq), TopicId("fan", "s1"))
    ticks = await wait_ticks(publisher, AgentId("sub", "s1"), total)
    assert ticks == Ticks(count=total, in_order=True, pid=remote.pid)
    local = await publisher.try_get_underlying_agent_instance(AgentId("local_sub", "s1"), LocalSubscriber)
    deadline = time.monotonic() + 10
    while len(local.seqs) < total and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert local.seqs == list(range(total))  # the publisher's own worker gets it once too
    await asyncio.sleep(0.2)
    assert (await wait_ticks(publisher, AgentId("sub", "s1"), total)).count == total  # no duplicates

    # Other sources are other agents; the sender itself is skipped.
    await publisher.publish_message(Tick(0), TopicId("fan", "s2"), sender=AgentId("sub", "s2"))
    await publisher.publish_message(Tick(1), TopicId("fan", "s2"))
    assert (await wait_ticks(publisher, AgentId("sub", "s2"), 1)).count == 1


class Alpha(RoutedAgent):
    """On Back(depth): bounce off the remote bouncer until depth is 0, while this turn waits."""

    def __init__(self) -> None:
        super().__init__("alpha")

    @message_handler
    async def on_back(self, message: Back, ctx: MessageContext) -> Trail:
        if message.depth == 0:
            return Trail([str(self.id)])
        reply = await self.send_message(Bounce(str(self.id), message.depth - 1), AgentId("bouncer", "b"))
        assert isinstance(reply, Trail)
        return Trail([str(self.id), *reply.steps])


async def test_call_chain_reenters_across_workers(cluster: Cluster) -> None:
    _, address = cluster.start_host()
    cluster.start_worker(address, "bouncer")
    worker = cluster.worker(address)
    await worker.start()
    await Alpha.register(worker, "alpha", Alpha, skip_class_subscriptions=True)

    # alpha/a -> bouncer/b -> alpha/a -> bouncer/b -> alpha/a: each inner request belongs to the
    # chain alpha/a's turn is waiting on, so it enters instead of deadlocking.
    started = time.monotonic()
    trail = await worker.send_message(Back(2), AgentId("alpha", "a"), timeout=10)
    assert trail == Trail(["alpha/a", "bouncer/b", "alpha/a", "bouncer/b", "alpha/a"])
    assert time.monotonic() - started < 5


async def test_prefix_and_default_routes_across_workers(cluster: Cluster) -> None:
    _, address = cluster.start_host()
    holder = cluster.worker(address)
    publisher = cluster.worker(address)
    await holder.start()
    await publisher.start()
    await LocalSubscriber.register(holder, "pre_sub", LocalSubscriber, skip_class_subscriptions=True)
    await holder.add_subscription(TypePrefixSubscription("news.", "pre_sub"))
    await LocalSubscriber.register(holder, "def_sub", LocalSubscriber, skip_class_subscriptions=True)
    default = DefaultSubscription(agent_type="def_sub")
    await holder.add_subscription(default)

    await publisher.publish_message(Tick(1), TopicId("news.sports", "s"))
    await publisher.publish_message(Tick(2), TopicId("default", "s"))
    await publisher.publish_message(Tick(3), TopicId("weather", "s"))  # nobody subscribes: dropped
    prefixed = await holder.try_get_underlying_agent_instance(AgentId("pre_sub", "s"), LocalSubscriber)
    defaulted = await holder.try_get_underlying_agent_instance(AgentId("def_sub", "s"), LocalSubscriber)
    deadline = time.monotonic() + 10
    while (not prefixed.seqs or not defaulted.seqs) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert prefixed.seqs == [1] and defaulted.seqs == [2]

    # Removing a route on its worker removes it at the host.
    await holder.remove_subscription(default.id)
    await publisher.publish_message(Tick(4), TopicId("default", "s"))
    await publisher.publish_message(Tick(5), TopicId("news.x", "s2"))
    second = await holder.try_get_underlying_agent_instance(AgentId("pre_sub", "s2"), LocalSubscriber)
    while not second.seqs and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert second.seqs == [5] and defaulted.seqs == [2]  # Tick(4) went out before Tick(5): FIFO, so it is gone
