"""Telemetry costs nothing when off; OpenTelemetry spans with context propagation when on."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel, field_serializer

from actorgen_core import (
    EVENT_LOGGER_NAME,
    AgentId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)
from actorgen_core.application import _observed as runtime_module
from actorgen_core.logging import MessageEvent

SERIALIZED = 0


class Counted(BaseModel):
    value: int

    @field_serializer("value")
    def _count(self, value: int) -> int:
        global SERIALIZED
        SERIALIZED += 1
        return value


class Relay(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("relay")

    @message_handler
    async def on_counted(self, message: Counted, ctx: MessageContext) -> Counted:
        if ctx.is_rpc and message.value > 0:
            return await self.send_message(Counted(value=message.value - 1), AgentId("relay", "inner"))
        return Counted(value=message.value)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def event_log() -> Iterator[_Collect]:
    handler = _Collect()
    logger = logging.getLogger(EVENT_LOGGER_NAME)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


async def test_nothing_is_serialized_or_traced_when_nobody_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    global SERIALIZED
    spans = 0

    def counting_span(*args: Any, **kwargs: Any) -> Any:
        nonlocal spans
        spans += 1
        raise AssertionError("no span may be built when tracing is off")

    monkeypatch.setattr(runtime_module, "runtime_span", counting_span)
    runtime = SingleThreadedAgentRuntime()
    assert runtime._tracer is None
    await Relay.register(runtime, "relay", Relay)
    await runtime.add_subscription(TypeSubscription("t", "relay"))
    runtime.start()
    SERIALIZED = 0
    for i in range(50):
        await runtime.send_message(Counted(value=1), AgentId("relay", f"k{i}"))
        await runtime.publish_message(Counted(value=0), TopicId("t", "s"))
    await runtime.stop_when_idle()
    assert SERIALIZED == 0
    assert spans == 0


async def test_event_log_receives_structured_events_when_enabled(event_log: _Collect) -> None:
    global SERIALIZED
    runtime = SingleThreadedAgentRuntime()
    await Relay.register(runtime, "relay", Relay)
    await runtime.add_subscription(TypeSubscription("t", "relay"))
    runtime.start()
    SERIALIZED = 0
    await runtime.send_message(Counted(value=0), AgentId("relay", "k"))
    await runtime.publish_message(Counted(value=7), TopicId("t", "s"))
    await runtime.stop_when_idle()
    events = [r.msg for r in event_log.records if isinstance(r.msg, MessageEvent)]
    rendered = [json.loads(str(e)) for e in events]
    stages = [(e["kind"], e["delivery_stage"]) for e in rendered]
    assert stages == [
        ("MessageKind.DIRECT", "DeliveryStage.SEND"),
        ("MessageKind.DIRECT", "DeliveryStage.DELIVER"),
        ("MessageKind.RESPOND", "DeliveryStage.SEND"),
        ("MessageKind.RESPOND", "DeliveryStage.DELIVER"),
        ("MessageKind.PUBLISH", "DeliveryStage.SEND"),
        ("MessageKind.PUBLISH", "DeliveryStage.DELIVER"),
    ]
    assert rendered[0]["receiver"] == "relay/k"
    assert json.loads(rendered[4]["payload"]) == {"value": 7}
    assert SERIALIZED > 0


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_spans_for_a_nested_request_form_one_trace() -> None:
    provider, exporter = _provider()
    runtime = SingleThreadedAgentRuntime(tracer_provider=provider)
    await Relay.register(runtime, "relay", Relay)
    runtime.start()
    assert await runtime.send_message(Counted(value=1), AgentId("relay", "outer")) == Counted(value=0)
    await runtime.stop_when_idle()
    spans = exporter.get_finished_spans()
    by_name = {s.name: s for s in spans if s.name != "actorgen ack"}
    # autogen_core's set per request: create (the whole call), send (the delivery),
    # process (the handler), ack (the response on its way back).
    assert sorted(s.name for s in spans) == sorted(
        [
            "actorgen create relay.(outer)-A",
            "actorgen send relay.(outer)-A",
            "actorgen process relay.(outer)-A",
            "actorgen create relay.(inner)-A",
            "actorgen send relay.(inner)-A",
            "actorgen process relay.(inner)-A",
            "actorgen ack",
            "actorgen ack",
        ]
    )
    assert len({s.context.trace_id for s in spans}) == 1
    parent = {s.name: (s.parent.span_id if s.parent else None) for s in by_name.values()}
    span_id = {s.name: s.context.span_id for s in by_name.values()}
    assert parent["actorgen create relay.(outer)-A"] is None
    assert parent["actorgen send relay.(outer)-A"] == span_id["actorgen create relay.(outer)-A"]
    assert parent["actorgen process relay.(outer)-A"] == span_id["actorgen send relay.(outer)-A"]
    assert parent["actorgen create relay.(inner)-A"] == span_id["actorgen process relay.(outer)-A"]
    assert parent["actorgen send relay.(inner)-A"] == span_id["actorgen create relay.(inner)-A"]
    assert parent["actorgen process relay.(inner)-A"] == span_id["actorgen send relay.(inner)-A"]
    acks = [s for s in spans if s.name == "actorgen ack"]
    creates = {span_id["actorgen create relay.(outer)-A"], span_id["actorgen create relay.(inner)-A"]}
    assert {a.parent.span_id for a in acks if a.parent} == creates
    assert by_name["actorgen create relay.(outer)-A"].kind.name == "PRODUCER"
    assert by_name["actorgen process relay.(outer)-A"].kind.name == "CONSUMER"
    send = by_name["actorgen send relay.(outer)-A"]
    assert send.attributes is not None
    assert send.attributes["messaging.destination"] == "relay.(outer)-A"
    assert send.attributes["messaging.message.type"] == "Counted"


async def test_publish_spans_parent_the_handler_spans() -> None:
    provider, exporter = _provider()
    runtime = SingleThreadedAgentRuntime(tracer_provider=provider)
    await Relay.register(runtime, "relay", Relay)
    await runtime.add_subscription(TypeSubscription("t", "relay"))
    runtime.start()
    await runtime.publish_message(Counted(value=3), TopicId("t", "s"))
    await runtime.stop_when_idle()
    finished = exporter.get_finished_spans()
    # autogen_core's set and end order for a publish: create, process, publish.
    assert [s.name for s in finished] == [
        "actorgen create t.(s)-T",
        "actorgen process relay.(s)-A",
        "actorgen publish t.(s)-T",
    ]
    spans = {s.name: s for s in finished}
    publish = spans["actorgen publish t.(s)-T"]
    process = spans["actorgen process relay.(s)-A"]
    assert process.parent is not None and process.parent.span_id == publish.context.span_id
    assert spans["actorgen create t.(s)-T"].attributes["messaging.operation"] == "create"  # type: ignore[index]


def test_tracing_can_be_disabled_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    provider, _ = _provider()
    monkeypatch.setenv("ACTORGEN_DISABLE_RUNTIME_TRACING", "true")
    assert SingleThreadedAgentRuntime(tracer_provider=provider)._tracer is None


async def test_a_request_that_waited_in_a_mailbox_keeps_its_trace_parent() -> None:
    import asyncio

    from .runtime_helpers import Done, Sleeper, Slow

    Sleeper.reset()
    provider, exporter = _provider()
    runtime = SingleThreadedAgentRuntime(tracer_provider=provider)
    await Sleeper.register(runtime, "sleeper", Sleeper)
    runtime.start()
    target = AgentId("sleeper", "k")
    first = asyncio.ensure_future(runtime.send_message(Slow(0.05, "first"), target))
    await asyncio.sleep(0.01)
    assert await runtime.send_message(Slow(0, "second"), target) == Done("second")  # waited in the mailbox
    await first
    await runtime.stop_when_idle()
    spans = exporter.get_finished_spans()
    sends = [s for s in spans if s.name == "actorgen send sleeper.(k)-A"]
    processes = [s for s in spans if s.name == "actorgen process sleeper.(k)-A"]
    assert len(sends) == 2 and len(processes) == 2
    send_ids = {s.context.span_id for s in sends}
    for process in processes:
        assert process.parent is not None and process.parent.span_id in send_ids
    # each process span belongs to the trace of its own send
    assert {p.context.trace_id for p in processes} == {s.context.trace_id for s in sends}
    assert len({p.parent.span_id for p in processes if p.parent}) == 2
