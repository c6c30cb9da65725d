"""OpenTelemetry spans following the GenAI semantic conventions (agents and tools)."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import AbstractContextManager, contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from ._contexts import AgentInstantiationContext

GEN_AI_SYSTEM = "actorgen"
_TRACER_NAME = "actorgen-core"


@contextmanager
def _span(
    name: str,
    kind: SpanKind,
    attributes: dict[str, str],
    tracer: Tracer | None,
    parent: Span | None,
) -> Generator[Span, None, None]:
    tracer = tracer or trace.get_tracer(_TRACER_NAME)
    context = trace.set_span_in_context(parent) if parent is not None else None
    with tracer.start_as_current_span(
        name, kind=kind, attributes=attributes, context=context, record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            yield span
        except BaseException as e:
            span.record_exception(e)
            span.set_status(Status(StatusCode.ERROR, str(e)))
            span.set_attribute("error.type", type(e).__name__)
            raise


def trace_tool_span(
    tool_name: str,
    *,
    tracer: Tracer | None = None,
    parent: Span | None = None,
    tool_description: str | None = None,
    tool_call_id: str | None = None,
) -> AbstractContextManager[Span]:
    """A span for one tool execution (``execute_tool <name>``)."""
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.system": GEN_AI_SYSTEM,
        "gen_ai.tool.name": tool_name,
    }
    if tool_description is not None:
        attributes["gen_ai.tool.description"] = tool_description
    if tool_call_id is not None:
        attributes["gen_ai.tool.call.id"] = tool_call_id
    return _span(f"execute_tool {tool_name}", SpanKind.INTERNAL, attributes, tracer, parent)


def _agent_attributes(
    operation: str, agent_name: str, agent_id: str | None, agent_description: str | None
) -> dict[str, str]:
    attributes = {
        "gen_ai.operation.name": operation,
        "gen_ai.system": GEN_AI_SYSTEM,
        "gen_ai.agent.name": agent_name,
    }
    if agent_id is not None:
        attributes["gen_ai.agent.id"] = agent_id
    if agent_description is not None:
        attributes["gen_ai.agent.description"] = agent_description
    return attributes


def trace_create_agent_span(
    agent_name: str,
    *,
    tracer: Tracer | None = None,
    parent: Span | None = None,
    agent_id: str | None = None,
    agent_description: str | None = None,
) -> AbstractContextManager[Span]:
    """A span for creating an agent (``create_agent <name>``)."""
    if agent_id is None and AgentInstantiationContext.is_in_factory_call():
        agent_id = str(AgentInstantiationContext.current_agent_id())
    attributes = _agent_attributes("create_agent", agent_name, agent_id, agent_description)
    return _span(f"create_agent {agent_name}", SpanKind.CLIENT, attributes, tracer, parent)


def trace_invoke_agent_span(
    agent_name: str,
    *,
    tracer: Tracer | None = None,
    parent: Span | None = None,
    agent_id: str | None = None,
    agent_description: str | None = None,
) -> AbstractContextManager[Span]:
    """A span for invoking an agent (``invoke_agent <name>``)."""
    attributes = _agent_attributes("invoke_agent", agent_name, agent_id, agent_description)
    return _span(f"invoke_agent {agent_name}", SpanKind.CLIENT, attributes, tracer, parent)
