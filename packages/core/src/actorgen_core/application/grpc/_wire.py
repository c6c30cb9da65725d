"""Conversions between our wire messages and runtime objects, and the batching outbox.

Everything read from a socket passes through the ``*_from_wire`` functions here, which
apply the same validation as the in-process runtime (``AgentId``/``TopicId`` constructors
and the subscription classes check every id) and raise ``WireValidationError``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from ...base import AgentId, Subscription, TopicId, TypePrefixSubscription, TypeSubscription
from ...base.exceptions import (
    AgentNotFoundError,
    CantHandleException,
    MessageDroppedException,
    RequestTimeoutError,
    UndeliverableException,
)
from ._errors import RemoteHandlerError, WireValidationError, WorkerLostError
from ._proto import actorgen_wire_pb2 as pb

PROTOCOL_VERSION = 1
"""Bumped whenever a peer of another version would misread a frame; checked at Hello."""

SERVICE_NAME = "actorgen.wire.v1.Gateway"
CONNECT_METHOD = f"/{SERVICE_NAME}/Connect"

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Largest frame either side accepts unless configured otherwise (gRPC's own default)."""

_BATCH_ENVELOPES = 256
_BATCH_BYTES = 512 * 1024

Kind = pb.Failure.Kind


def agent_to_wire(agent_id: AgentId, out: pb.AgentRef) -> None:
    out.type = agent_id.type
    out.key = agent_id.key


def agent_from_wire(ref: pb.AgentRef) -> AgentId:
    try:
        return AgentId(ref.type, ref.key)
    except ValueError as e:
        raise WireValidationError(str(e)) from None


def topic_from_wire(topic_type: str, source: str) -> TopicId:
    try:
        return TopicId(topic_type, source)
    except ValueError as e:
        raise WireValidationError(str(e)) from None


def route_to_wire(subscription: Subscription, op_id: int) -> pb.AddRoute:
    """Only the two routing kinds the host understands can cross the wire."""
    if isinstance(subscription, TypeSubscription):
        return pb.AddRoute(
            op_id=op_id,
            subscription_id=subscription.id,
            type_route=pb.TypeRoute(topic_type=subscription.topic_type, agent_type=subscription.agent_type),
        )
    if isinstance(subscription, TypePrefixSubscription):
        return pb.AddRoute(
            op_id=op_id,
            subscription_id=subscription.id,
            prefix_route=pb.PrefixRoute(
                topic_type_prefix=subscription.topic_type_prefix, agent_type=subscription.agent_type
            ),
        )
    raise ValueError(
        f"{type(subscription).__name__} cannot be shared with the host: the distributed runtime routes "
        "TypeSubscription, DefaultSubscription and TypePrefixSubscription only"
    )


def route_from_wire(route: pb.AddRoute) -> Subscription:
    if len(route.subscription_id) > 512 or not route.subscription_id:
        raise WireValidationError("subscription id must be 1-512 characters")
    try:
        kind = route.WhichOneof("route")
        if kind == "type_route":
            return TypeSubscription(route.type_route.topic_type, route.type_route.agent_type, id=route.subscription_id)
        if kind == "prefix_route":
            return TypePrefixSubscription(
                route.prefix_route.topic_type_prefix, route.prefix_route.agent_type, id=route.subscription_id
            )
    except ValueError as e:
        raise WireValidationError(str(e)) from None
    raise WireValidationError("subscription without a route")


_KIND_OF: list[tuple[type[BaseException], pb.Failure.Kind]] = [
    (AgentNotFoundError, Kind.AGENT_NOT_FOUND),
    (CantHandleException, Kind.CANT_HANDLE),
    (RequestTimeoutError, Kind.TIMEOUT),
    (MessageDroppedException, Kind.DROPPED),
    (WorkerLostError, Kind.WORKER_LOST),
    (WireValidationError, Kind.INVALID),
    (UndeliverableException, Kind.UNDELIVERABLE),
]


def failure_of(exc: BaseException) -> pb.Failure:
    """What a caller on another worker should learn about ``exc``."""
    if isinstance(exc, RemoteHandlerError):  # a failure passing through: keep the original type
        return pb.Failure(kind=Kind.HANDLER_ERROR, type_name=exc.remote_type, message=exc.remote_message)
    for cls, kind in _KIND_OF:
        if isinstance(exc, cls):
            return pb.Failure(kind=kind, type_name=type(exc).__name__, message=str(exc))
    return pb.Failure(kind=Kind.HANDLER_ERROR, type_name=type(exc).__name__, message=str(exc))


_EXCEPTION_OF: dict[pb.Failure.Kind, type[Exception]] = {
    Kind.AGENT_NOT_FOUND: AgentNotFoundError,
    Kind.CANT_HANDLE: CantHandleException,
    Kind.TIMEOUT: RequestTimeoutError,
    Kind.DROPPED: MessageDroppedException,
    Kind.WORKER_LOST: WorkerLostError,
    Kind.INVALID: WireValidationError,
    Kind.UNDELIVERABLE: UndeliverableException,
}


def exception_of(failure: pb.Failure) -> Exception:
    """The exception a caller raises for a failure that came over the wire."""
    cls = _EXCEPTION_OF.get(failure.kind)
    if cls is None:
        return RemoteHandlerError(failure.type_name or "Exception", failure.message)
    return cls(failure.message)


class Outbox:
    """Envelopes waiting for the stream, written as batches.

    ``put`` never waits; the stream's writer takes everything queued (up to a batch
    limit) as one frame, so a burst of messages costs one write instead of one each.
    """

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._queue: deque[tuple[pb.Envelope, int]] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self._max_bytes = min(_BATCH_BYTES, max_frame_bytes // 2)

    def put(self, envelope: pb.Envelope, size: int = 64) -> None:
        """Queue ``envelope``; ``size`` (roughly its bytes) keeps frames under the size limit."""
        self._queue.append((envelope, size))
        if not self._wakeup.is_set():
            self._wakeup.set()

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def take_all(self) -> list[pb.Envelope]:
        items = [envelope for envelope, _ in self._queue]
        self._queue.clear()
        return items

    def __len__(self) -> int:
        return len(self._queue)

    async def frames(self, first: list[pb.Envelope] | None = None) -> AsyncIterator[pb.Frame]:
        """Frames until ``close()`` and the queue is empty; ``first`` (a handshake) goes out
        before anything queued."""
        if first:
            yield pb.Frame(envelopes=first)
        queue = self._queue
        while True:
            if not queue:
                if self._closed:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            frame = pb.Frame()
            batch = frame.envelopes
            size = 0
            while queue and len(batch) < _BATCH_ENVELOPES and size < self._max_bytes:
                envelope, envelope_size = queue.popleft()
                size += envelope_size
                batch.append(envelope)
            yield frame
