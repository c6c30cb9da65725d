"""Publishes across processes (exactly once, in order) and call chains that cross workers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

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
from actorgen_core.application import GrpcWorkerAgentRuntimeHost
from actorgen_core.application.grpc import _host

from .agents import Back, Bounce, GetTicks, Tick, Ticks, Trail
from .conftest import Cluster, free_port, until


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
    await until(lambda: len(local.seqs) >= total, timeout=10)
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
    await until(lambda: prefixed.seqs and defaulted.seqs, timeout=10)
    assert prefixed.seqs == [1] and defaulted.seqs == [2]

    # Removing a route on its worker removes it at the host.
    await holder.remove_subscription(default.id)
    await publisher.publish_message(Tick(4), TopicId("default", "s"))
    await publisher.publish_message(Tick(5), TopicId("news.x", "s2"))
    second = await holder.try_get_underlying_agent_instance(AgentId("pre_sub", "s2"), LocalSubscriber)
    await until(lambda: second.seqs, timeout=10)
    assert second.seqs == [5] and defaulted.seqs == [2]  # Tick(4) went out before Tick(5): FIFO, so it is gone


@contextlib.asynccontextmanager
async def host_in_this_process(cluster: Cluster) -> AsyncIterator[str]:
    """A host in the test process (so a test can change its settings); yields its address."""
    address = f"127.0.0.1:{free_port()}"
    host = GrpcWorkerAgentRuntimeHost(address)
    host.start()
    try:
        yield address
    finally:
        await cluster.aclose()
        await host.stop()


async def test_recipient_lists_are_sent_once_and_their_ids_reused_safely(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The host names each recipient list it sends a worker and then sends only the name;
    # with room for 3 names it starts over often. Every agent must still get exactly its
    # events, in order.
    monkeypatch.setattr(_host, "_MAX_RECIPIENT_LISTS", 3)
    async with host_in_this_process(cluster) as address:
        subscribers = cluster.worker(address)
        await subscribers.start()
        for agent_type in ("a", "b", "c"):
            await LocalSubscriber.register(subscribers, agent_type, LocalSubscriber, skip_class_subscriptions=True)
        routes = {"t1": ["a"], "t2": ["a", "b"], "t3": ["b", "c"], "t4": ["a", "b", "c"]}
        for topic_type, agent_types in routes.items():
            for agent_type in agent_types:
                await subscribers.add_subscription(TypeSubscription(topic_type, agent_type))
        publisher = cluster.worker(address)
        await publisher.start()

        expected: dict[AgentId, list[int]] = {}
        seq = 0
        for _ in range(3):  # each (topic, source) pair is a distinct list, revisited after the ids restarted
            for source in ("s1", "s2"):
                for topic_type, agent_types in routes.items():
                    await publisher.publish_message(Tick(seq), TopicId(topic_type, source))
                    for agent_type in agent_types:
                        expected.setdefault(AgentId(agent_type, source), []).append(seq)
                    seq += 1
        for agent_id, seqs in expected.items():
            local = await subscribers.try_get_underlying_agent_instance(agent_id, LocalSubscriber)
            await until(lambda: len(local.seqs) >= len(seqs))  # noqa: B023 (awaited at once)
            assert local.seqs == seqs, agent_id
        # Names were used (and reused): the worker holds at most the 3 the host had room for.
        assert 1 <= len(subscribers._recipient_lists) <= 3


async def test_an_event_makes_its_recipients_local_again_after_the_host_refused_them(cluster: Cluster) -> None:
    # An event's recipients were placed on this worker by the host, so they are local ids
    # (a request from here to one of them stays in-process). If the host refused one of them
    # meanwhile (it was active elsewhere while this worker was away), the next event for it
    # makes it local again, also when the host names the recipients by a list id it sent
    # before.
    from actorgen_core.application.grpc._proto import actorgen_wire_pb2 as pb

    async with host_in_this_process(cluster) as address:
        subscribers = cluster.worker(address)
        await subscribers.start()
        await LocalSubscriber.register(subscribers, "a", LocalSubscriber, skip_class_subscriptions=True)
        await subscribers.add_subscription(TypeSubscription("t", "a"))
        publisher = cluster.worker(address)
        await publisher.start()
        agent_id = AgentId("a", "s")
        local = None
        for seq in range(3):
            await publisher.publish_message(Tick(seq), TopicId("t", "s"))
            await until(lambda: agent_id in subscribers._local_ids)
            assert agent_id in subscribers._local_ids
            local = await subscribers.try_get_underlying_agent_instance(agent_id, LocalSubscriber)
            await until(lambda: len(local.seqs) > seq)  # noqa: B023 (awaited at once)
            refused = pb.Ack(op_id=0)
            refused.refused.add(type="a", key="s")
            subscribers._on_ack(refused)
            assert agent_id not in subscribers._local_ids
        assert local is not None and local.seqs == [0, 1, 2]
        assert len(subscribers._recipient_lists) == 1  # the later events named the list by its id


async def test_a_tight_publish_loop_lets_other_tasks_run(cluster: Cluster) -> None:
    # As in-process: publishing never waits for the wire, but a loop of publishes still
    # lets the event loop turn every few messages (the stream's writer, other tasks).
    async with host_in_this_process(cluster) as address:
        worker = cluster.worker(address)
        await worker.start()
        await LocalSubscriber.register(worker, "local_sub", LocalSubscriber, skip_class_subscriptions=True)
        await worker.add_subscription(TypeSubscription("busy", "local_sub"))
        turns = 0

        async def count_turns() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        counter = asyncio.ensure_future(count_turns())
        await asyncio.sleep(0)
        before = turns
        for seq in range(1600):
            await worker.publish_message(Tick(seq), TopicId("busy", "s"))
        during = turns - before
        counter.cancel()
        assert during >= 50  # about one turn per 16 publishes; none without the yield
        local = await worker.try_get_underlying_agent_instance(AgentId("local_sub", "s"), LocalSubscriber)
        await until(lambda: len(local.seqs) >= 1600)
        assert local.seqs == list(range(1600))
