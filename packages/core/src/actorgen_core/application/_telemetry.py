"""OpenTelemetry wiring for the runtimes: on only when someone listens.

A runtime asks :func:`resolve_tracer` once (at construction and at start). It returns
``None`` unless a tracer provider was given or a real (SDK) provider is installed
globally, and the hot path then builds no span, no attribute and no payload string.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, SpanKind, Tracer, TracerProvider

from ..base import AgentId, TopicId

DISABLE_ENV = "ACTORGEN_DISABLE_RUNTIME_TRACING"


def resolve_tracer(provider: TracerProvider | None, name: str) -> Tracer | None:
    if os.environ.get(DISABLE_ENV, "").lower() == "true":
        return None
    if provider is None:
        provider = trace.get_tracer_provider()
        if isinstance(provider, ProxyTracerProvider | NoOpTracerProvider):
            return None
    elif isinstance(provider, NoOpTracerProvider):
        return None
    return provider.get_tracer(f"actorgen {name}")


def destination(target: AgentId | TopicId | str | None) -> str:
    if isinstance(target, AgentId):
        return f"{target.type}.({target.key})-A"
    if isinstance(target, TopicId):
        return f"{target.type}.({target.source})-T"
    return target or ""


_KINDS = {
    "create": (SpanKind.PRODUCER, "create"),
    "send": (SpanKind.PRODUCER, "publish"),
    "publish": (SpanKind.PRODUCER, "publish"),
    "process": (SpanKind.CONSUMER, "process"),
    "intercept": (SpanKind.CONSUMER, "receive"),
    "ack": (SpanKind.CONSUMER, "receive"),
}


@contextmanager
def runtime_span(
    tracer: Tracer,
    operation: str,
    target: AgentId | TopicId | str | None,
    message: Any = None,
    extra: dict[str, str] | None = None,
) -> Iterator[None]:
    """``actorgen <operation> <destination>``, a child of the current span."""
    kind, messaging_operation = _KINDS[operation]
    dest = destination(target)
    attributes = {"messaging.operation": messaging_operation, "messaging.destination": dest}
    if message is not None:
        attributes["messaging.message.type"] = type(message).__name__
    if extra:
        attributes.update(extra)
    name = f"actorgen {operation} {dest}" if dest else f"actorgen {operation}"
    with tracer.start_as_current_span(name, kind=kind, attributes=attributes):
        yield


class _NullSpan:
    """A do-nothing context manager for the paths that trace only when a tracer is set."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


NULL_SPAN = _NullSpan()
