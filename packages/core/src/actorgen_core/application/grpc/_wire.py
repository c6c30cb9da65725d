"""Conversions between our wire messages and runtime objects, and the batching outbox.

Everything read from a socket passes through the ``*_from_wire`` functions here, which
apply the same validation as the in-process runtime (``AgentId``/``TopicId`` constructors
and the subscription classes check every id) and raise ``WireValidationError``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import grpc

from ...base import AgentId, Subscription, TopicId, TypePrefixSubscription, TypeSubscription
from ...base._constants import ROOT_LOGGER_NAME
from ...base.exceptions import (
    AgentNotFoundError,
    CantHandleException,
    MessageDroppedException,
    RequestTimeoutError,
    UndeliverableException,
)
from ._errors import RemoteHandlerError, WireValidationError, WorkerLostError
from ._proto import actorgen_wire_pb2 as pb

logger = logging.getLogger(ROOT_LOGGER_NAME)

PROTOCOL_VERSION = 2
"""Bumped whenever a peer of another version would misread a frame; checked at Hello."""

SERVICE_NAME = "actorgen.wire.v2.Gateway"
CONNECT_METHOD = f"/{SERVICE_NAME}/Connect"

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Largest frame either side accepts unless configured otherwise (gRPC's own default)."""

_BATCH_ENVELOPES = 256
_BATCH_BYTES = 512 * 1024


def batch_bytes(max_frame_bytes: int) -> int:
    """How many bytes of envelopes one written frame gathers, for a connection whose frames
    may be ``max_frame_bytes`` long: half of that, at most 512 KiB."""
    return min(_BATCH_BYTES, max_frame_bytes // 2)


Kind = pb.Failure.Kind

HELLO_TIMEOUT = 10.0
"""Seconds a new stream has to send its Hello before it is cut off."""


class Link:
    """When a stream last showed a sign of life (any frame)."""

    __slots__ = ("last_heard",)

    def __init__(self, now: float) -> None:
        self.last_heard = now


class _Puts(Protocol):
    def put(self, envelope: pb.Envelope) -> None: ...


async def keep_alive(outbox: _Puts, link: Link, timeout: float, on_silence: Callable[[], None]) -> None:
    """Send a heartbeat about once a second; call ``on_silence`` when the other side went quiet.
    For every stream and direct connection, either end."""
    loop = asyncio.get_running_loop()
    envelope = pb.Envelope(heartbeat=pb.Heartbeat())
    while True:
        await asyncio.sleep(min(1.0, timeout / 3))
        if loop.time() - link.last_heard > timeout:
            on_silence()
            return
        outbox.put(envelope)


def already_serialized(frame: bytes) -> bytes:
    """The gRPC (de)serializer for frames we serialize ourselves (``frame_bytes``)."""
    return frame


def token_matches(context: grpc.aio.ServicerContext[Any, Any], token: str | None) -> bool:
    """Whether the stream presents ``Bearer <token>`` (always, when no token is configured)."""
    if token is None:
        return True
    expected = f"Bearer {token}".encode()
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            given = value.encode() if isinstance(value, str) else value
            return hmac.compare_digest(given, expected)
    return False


async def accept_stream(context: grpc.aio.ServicerContext[Any, Any], token: str | None, what: str) -> pb.Frame:
    """Check a new stream's token and read its first frame, which must start with a Hello.

    A stream that fails either is logged (``Refused a <what> from <peer>: ...``) and aborted
    (``context.abort`` raises), so the caller only ever sees an acceptable first frame.
    """
    peer = context.peer()
    if not token_matches(context, token):
        logger.warning("Refused a %s from %s: missing or wrong token", what, peer)
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong token")
    first: object = None
    try:
        first = await asyncio.wait_for(context.read(), HELLO_TIMEOUT)
    except TimeoutError:
        pass
    if not isinstance(first, pb.Frame) or not first.envelopes or not first.envelopes[0].HasField("hello"):
        logger.warning("Refused a %s from %s: the first frame is not a Hello", what, peer)
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the first frame must hold a Hello")
    assert isinstance(first, pb.Frame)  # abort() raised otherwise
    return first


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


class WireIds:
    """Validated ids seen on the wire, so a busy stream checks each distinct id once.

    Only ids that passed validation are remembered; the table is emptied when it reaches
    ``limit`` entries, so a peer sending endless distinct ids costs memory bounded by it.
    """

    def __init__(self, limit: int = 65536) -> None:
        self._agents: dict[tuple[str, str], AgentId] = {}
        self._topics: dict[tuple[str, str], TopicId] = {}
        self._limit = limit

    def agent(self, ref: pb.AgentRef) -> AgentId:
        key = (ref.type, ref.key)
        found = self._agents.get(key)
        if found is None:
            found = agent_from_wire(ref)
            if len(self._agents) >= self._limit:
                self._agents.clear()
            self._agents[key] = found
        return found

    def topic(self, topic_type: str, source: str) -> TopicId:
        key = (topic_type, source)
        found = self._topics.get(key)
        if found is None:
            found = topic_from_wire(topic_type, source)
            if len(self._topics) >= self._limit:
                self._topics.clear()
            self._topics[key] = found
        return found


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


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_ENVELOPE_TAG = b"\x0a"  # Frame.envelopes: field 1, length-delimited
_SMALL_LENGTHS = [_varint(n) for n in range(16384)]


def frame_bytes(envelopes: list[bytes]) -> bytes:
    """A serialized ``Frame`` made of already serialized envelopes.

    A repeated message field is its elements' bytes, each behind a tag and a length, so a
    frame is assembled by joining bytes: no message object is built or copied.
    """
    parts: list[bytes] = []
    for data in envelopes:
        size = len(data)
        parts.append(_ENVELOPE_TAG)
        parts.append(_SMALL_LENGTHS[size] if size < 16384 else _varint(size))
        parts.append(data)
    return b"".join(parts)


class Outbox:
    """Envelopes waiting for the stream, written as batches.

    ``put`` serializes the envelope and never waits; the stream's writer takes everything
    queued (up to a batch limit) as one frame, so a burst of messages costs one write
    instead of one each.
    """

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._queue: deque[tuple[bytes, bool]] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self._max_bytes = batch_bytes(max_frame_bytes)

    def put(self, envelope: pb.Envelope, *, replayable: bool = False) -> None:
        """Queue ``envelope``; a ``replayable`` one is kept for the next stream if this one breaks."""
        self._queue.append((envelope.SerializeToString(), replayable))
        if not self._wakeup.is_set():
            self._wakeup.set()

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    def take_replayable(self) -> list[bytes]:
        """Remove everything queued; return the envelopes marked replayable."""
        items = [data for data, replayable in self._queue if replayable]
        self._queue.clear()
        return items

    def put_serialized(self, data: bytes, *, replayable: bool = False) -> None:
        self._queue.append((data, replayable))
        if not self._wakeup.is_set():
            self._wakeup.set()

    def __len__(self) -> int:
        return len(self._queue)

    async def frames(self, first: list[pb.Envelope] | None = None) -> AsyncIterator[bytes]:
        """Serialized frames until ``close()`` and the queue is empty; ``first`` (a
        handshake) goes out before anything queued."""
        if first:
            yield frame_bytes([envelope.SerializeToString() for envelope in first])
        queue = self._queue
        busy = False
        while True:
            if not queue:
                if self._closed:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                if busy:
                    # Under load, one more turn of the event loop first: whatever the callbacks
                    # already due will queue goes into this frame too. (When frames carry one
                    # envelope each, that turn would only add latency.)
                    await asyncio.sleep(0)
                continue
            batch: list[bytes] = []
            size = 0
            while queue and len(batch) < _BATCH_ENVELOPES and size < self._max_bytes:
                data = queue.popleft()[0]
                size += len(data)
                batch.append(data)
            busy = len(batch) > 1
            yield frame_bytes(batch)
