"""GenAI span helpers: trace_tool_span, trace_create_agent_span, trace_invoke_agent_span."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from actorgen_core import (
    AgentId,
    AgentInstantiationContext,
    SingleThreadedAgentRuntime,
    trace_create_agent_span,
    trace_invoke_agent_span,
    trace_tool_span,
)

SYSTEM = "actorgen"  # autogen uses "autogen"; see docs/migrating-from-autogen.md


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def tracer(provider: TracerProvider) -> trace.Tracer:
    return provider.get_tracer("test")


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    spans = exporter.get_finished_spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


# ---------------------------------------------------------------------------- names, kinds, attributes


def test_tool_span(exporter: InMemorySpanExporter, tracer: trace.Tracer) -> None:
    with trace_tool_span("search", tracer=tracer, tool_description="finds things", tool_call_id="call-1") as span:
        assert span.is_recording()
        assert trace.get_current_span() is span
    finished = only_span(exporter)
    assert finished.name == "execute_tool search"
    assert finished.kind is SpanKind.INTERNAL
    assert dict(finished.attributes or {}) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.system": SYSTEM,
        "gen_ai.tool.name": "search",
        "gen_ai.tool.description": "finds things",
        "gen_ai.tool.call.id": "call-1",
    }
    assert finished.status.status_code is StatusCode.UNSET


def test_tool_span_optional_attributes_are_omitted(exporter: InMemorySpanExporter, tracer: trace.Tracer) -> None:
    with trace_tool_span("search", tracer=tracer):
        pass
    assert dict(only_span(exporter).attributes or {}) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.system": SYSTEM,
        "gen_ai.tool.name": "search",
    }


@pytest.mark.parametrize(
    ("helper", "operation"),
    [(trace_create_agent_span, "create_agent"), (trace_invoke_agent_span, "invoke_agent")],
)
def test_agent_spans(
    exporter: InMemorySpanExporter, tracer: trace.Tracer, helper: Callable[..., Any], operation: str
) -> None:
    with helper("planner", tracer=tracer, agent_id="planner/k", agent_description="plans"):
        pass
    finished = only_span(exporter)
    assert finished.name == f"{operation} planner"
    assert finished.kind is SpanKind.CLIENT
    assert dict(finished.attributes or {}) == {
        "gen_ai.operation.name": operation,
        "gen_ai.system": SYSTEM,
        "gen_ai.agent.name": "planner",
        "gen_ai.agent.id": "planner/k",
        "gen_ai.agent.description": "plans",
    }


@pytest.mark.parametrize("helper", [trace_create_agent_span, trace_invoke_agent_span])
def test_agent_span_optional_attributes_are_omitted(
    exporter: InMemorySpanExporter, tracer: trace.Tracer, helper: Callable[..., Any]
) -> None:
    with helper("planner", tracer=tracer):
        pass
    attributes = dict(only_span(exporter).attributes or {})
    assert "gen_ai.agent.id" not in attributes
    assert "gen_ai.agent.description" not in attributes


def test_create_agent_span_takes_the_agent_id_from_the_instantiation_context(
    exporter: InMemorySpanExporter, tracer: trace.Tracer
) -> None:
    runtime = SingleThreadedAgentRuntime()
    with AgentInstantiationContext.populate_context((runtime, AgentId("planner", "k1"))):
        with trace_create_agent_span("planner", tracer=tracer):
            pass
        with trace_create_agent_span("planner", tracer=tracer, agent_id="explicit"):
            pass
        with trace_invoke_agent_span("planner", tracer=tracer):  # only create_agent reads the context
            pass
    ids = [dict(s.attributes or {}).get("gen_ai.agent.id") for s in exporter.get_finished_spans()]
    assert ids == ["planner/k1", "explicit", None]


def test_the_span_can_be_annotated_inside_the_block(exporter: InMemorySpanExporter, tracer: trace.Tracer) -> None:
    with trace_invoke_agent_span("a", tracer=tracer) as span:
        span.set_attribute("custom", 42)
    assert dict(only_span(exporter).attributes or {})["custom"] == 42


def test_default_tracer_is_named_actorgen_core(
    exporter: InMemorySpanExporter, provider: TracerProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    requested: list[str] = []

    def get_tracer(name: str, *args: Any, **kwargs: Any) -> trace.Tracer:
        requested.append(name)
        return provider.get_tracer(name)

    monkeypatch.setattr(trace, "get_tracer", get_tracer)
    with trace_tool_span("search"):
        pass
    assert requested == ["actorgen-core"]
    finished = only_span(exporter)
    assert finished.instrumentation_scope is not None
    assert finished.instrumentation_scope.name == "actorgen-core"


def test_without_a_provider_the_helpers_still_work() -> None:
    # The global provider is the API's no-op default unless a test installed one: either way
    # the block runs and exceptions pass through.
    with trace_tool_span("search") as span:
        assert span is not None
    with pytest.raises(KeyError), trace_invoke_agent_span("a"):
        raise KeyError("k")


# ---------------------------------------------------------------------------- errors


HELPERS: list[Callable[..., AbstractContextManager[Any]]] = [
    trace_tool_span,
    trace_create_agent_span,
    trace_invoke_agent_span,
]


class ToolFailed(Exception):
    pass


@pytest.mark.parametrize("helper", HELPERS)
def test_exception_sets_error_status_and_type_and_is_reraised(
    exporter: InMemorySpanExporter, tracer: trace.Tracer, helper: Callable[..., Any]
) -> None:
    with pytest.raises(ToolFailed, match="disk on fire"), helper("x", tracer=tracer):
        raise ToolFailed("disk on fire")
    finished = only_span(exporter)
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.status.description == "disk on fire"
    assert dict(finished.attributes or {})["error.type"] == "ToolFailed"
    exception_events = [e for e in finished.events if e.name == "exception"]
    assert len(exception_events) == 1  # recorded once, not twice
    assert dict(exception_events[0].attributes or {})["exception.type"].endswith("ToolFailed")


def test_no_error_attributes_on_success(exporter: InMemorySpanExporter, tracer: trace.Tracer) -> None:
    with trace_tool_span("ok", tracer=tracer):
        pass
    finished = only_span(exporter)
    assert "error.type" not in dict(finished.attributes or {})
    assert not finished.events


# ---------------------------------------------------------------------------- parents


def test_without_parent_the_current_span_is_the_parent(exporter: InMemorySpanExporter, tracer: trace.Tracer) -> None:
    with tracer.start_as_current_span("outer") as outer, trace_invoke_agent_span("agent", tracer=tracer):
        with trace_tool_span("tool", tracer=tracer):
            pass
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["invoke_agent agent"].parent is not None
    assert spans["invoke_agent agent"].parent.span_id == outer.get_span_context().span_id
    assert spans["execute_tool tool"].parent is not None
    assert spans["execute_tool tool"].parent.span_id == spans["invoke_agent agent"].context.span_id
    assert len({s.context.trace_id for s in spans.values()}) == 1


def test_without_any_current_span_the_span_is_a_root(exporter: InMemorySpanExporter, tracer: trace.Tracer) -> None:
    with trace_tool_span("tool", tracer=tracer):
        pass
    assert only_span(exporter).parent is None


@pytest.mark.parametrize("helper", HELPERS)
def test_explicit_parent_wins_over_the_current_span(
    exporter: InMemorySpanExporter, tracer: trace.Tracer, helper: Callable[..., Any]
) -> None:
    parent = tracer.start_span("chosen parent")
    with tracer.start_as_current_span("current") as current:
        with helper("x", tracer=tracer, parent=parent) as span:
            assert trace.get_current_span() is span
        # The current span is restored after the block.
        assert trace.get_current_span() is current
    parent.end()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    child = next(s for name, s in spans.items() if name.endswith(" x"))
    assert child.parent is not None
    assert child.parent.span_id == parent.get_span_context().span_id
    assert child.context.trace_id == parent.get_span_context().trace_id
    assert child.context.trace_id != spans["current"].context.trace_id
