"""A worker: a SingleThreadedAgentRuntime whose agents can talk to agents on other workers.

Local agents keep every in-process promise (one turn at a time, call-chain reentrancy,
deadlines); this module adds the way out (requests and events through the host) and the
way in (requests and events from the host, delivered through the single-threaded
runtime). docs/protocol.md describes the wire side.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import math
import random
import secrets
import signal
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.trace import TracerProvider

from ...base import (
    Agent,
    AgentId,
    AgentType,
    CancellationToken,
    InterventionHandler,
    MessageContext,
    MessageSerializer,
    Subscription,
    TopicId,
    try_get_known_serializers_for_type,
)
from ...base._constants import ROOT_LOGGER_NAME
from ...base._serialization import JSON_DATA_CONTENT_TYPE, PROTOBUF_DATA_CONTENT_TYPE, UnknownPayload
from ...base.exceptions import NotAccessibleError
from .._delivery import is_drop
from .._eager import start_task
from .._single_threaded_agent_runtime import DEFAULT_TIMEOUT, SingleThreadedAgentRuntime
from .._state_store import StateStore
from ._direct import DirectServer, FrameSink, Peer, direct_ssl_contexts, new_peer
from ._errors import HostUnavailableError, WireValidationError, WorkerLostError
from ._frames import CURRENT_FRAME, MAX_FRAME_ID, CallChains, CallFrame
from ._proto import actorgen_wire_pb2 as pb
from ._signals import DEFAULT_SIGNALS, until_signal
from ._wire import (
    CONNECT_METHOD,
    DEFAULT_MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    Kind,
    Link,
    Outbox,
    WireIds,
    agent_to_wire,
    already_serialized,
    exception_of,
    failure_of,
    keep_alive,
    route_to_wire,
)

logger = logging.getLogger(f"{ROOT_LOGGER_NAME}.grpc.worker")

T = TypeVar("T", bound=Agent)
ChannelArgumentType = Sequence[tuple[str, Any]]

ReplyTo = Outbox | FrameSink
"""Where an incoming request is answered: the host's stream, or a direct connection."""

_MAX_CHAIN = 256
_MAX_RECIPIENT_LISTS = 65536  # recipient lists remembered per host stream (the host sends fewer)
_UNREACHABLE_FOR = 30.0  # seconds a direct address that could not be connected to is not tried
_MAX_BUDGET_US = 10**13  # about four months: anything larger is treated as "no deadline"
_PUBLISH_BACKLOG = 8192
_FATAL_CODES = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.FAILED_PRECONDITION)
_KEEPALIVE_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.keepalive_time_ms", 2000),
    ("grpc.keepalive_timeout_ms", 2000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]


class GrpcWorkerAgentRuntime(SingleThreadedAgentRuntime):
    """Runs agents in this process and connects them to the others through a host.

    The API is the single-threaded runtime's (and autogen_ext's GrpcWorkerAgentRuntime's),
    with ``start()`` awaitable because it connects. Messages cross processes through
    registered serializers only; dataclasses and pydantic models get JSON serializers on
    first use.

    Args:
        host_address: ``host:port`` of the GrpcWorkerAgentRuntimeHost.
        tracer_provider: OpenTelemetry provider; trace context travels with every message.
        extra_grpc_config: extra gRPC channel options.
        payload_serialization_format: preferred content type for payloads (JSON or protobuf).
        token: shared secret the host requires, if any. Never logged.
        tls_root_certificates: PEM of the CA that signed the host's certificate; enables TLS.
        tls_cert, tls_key: PEM of this worker's certificate and key (mutual TLS).
        max_message_bytes: largest frame sent or accepted.
        default_timeout: deadline of a request without ``timeout`` (as in-process).
        connect_timeout: how long ``start()`` waits for the first connection.
        worker_name: a label for the host's logs.
        liveness_timeout: a host from which nothing (not even a heartbeat) arrived for this
            many seconds is treated as gone: the worker reconnects.
        direct_listen: where this worker accepts requests straight from other workers (the
            direct path, see docs/protocol.md); None turns it off. With TLS it is used only
            when this worker has a certificate (``tls_cert``/``tls_key``): the direct
            connections are then mutual TLS, each side checked against
            ``tls_root_certificates``.
        direct_advertise: the address other workers should use for it, when it differs from
            ``direct_listen`` (e.g. listening on 0.0.0.0).
    """

    def __init__(
        self,
        host_address: str,
        tracer_provider: TracerProvider | None = None,
        extra_grpc_config: ChannelArgumentType | None = None,
        payload_serialization_format: str = JSON_DATA_CONTENT_TYPE,
        *,
        token: str | None = None,
        tls_root_certificates: bytes | None = None,
        tls_cert: bytes | None = None,
        tls_key: bytes | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        intervention_handlers: list[InterventionHandler] | None = None,
        ignore_unhandled_exceptions: bool = True,
        default_timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float = 10.0,
        worker_name: str | None = None,
        liveness_timeout: float = 5.0,
        direct_listen: str | None = "127.0.0.1:0",
        direct_advertise: str | None = None,
        state_store: StateStore | None = None,
        idle_timeout: float | None = None,
        max_live_per_type: int | None = None,
    ) -> None:
        # The lifecycle options are the single-threaded runtime's (docs/lifecycle.md). Workers
        # that share one state store give an agent re-placed after its worker died the
        # state it last wrote there.
        super().__init__(
            intervention_handlers=intervention_handlers,
            tracer_provider=tracer_provider,
            ignore_unhandled_exceptions=ignore_unhandled_exceptions,
            default_timeout=default_timeout,
            state_store=state_store,
            idle_timeout=idle_timeout,
            max_live_per_type=max_live_per_type,
        )
        if payload_serialization_format not in (JSON_DATA_CONTENT_TYPE, PROTOBUF_DATA_CONTENT_TYPE):
            raise ValueError(f"Unsupported payload serialization format: {payload_serialization_format}")
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key must be given together")
        self._host_address = host_address
        self._format = payload_serialization_format
        self._max_bytes = max_message_bytes
        self._max_payload = max_message_bytes - 16 * 1024
        self._channel_options: list[tuple[str, Any]] = [
            *_KEEPALIVE_OPTIONS,
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            *(extra_grpc_config or ()),
        ]
        self._credentials: grpc.ChannelCredentials | None = None
        if tls_root_certificates is not None or tls_cert is not None:
            self._credentials = grpc.ssl_channel_credentials(tls_root_certificates, tls_key, tls_cert)
        self._call_metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()
        self._connect_timeout = connect_timeout
        self._worker_name = worker_name or f"worker-{secrets.token_hex(3)}"
        self._outbox = Outbox(max_message_bytes)
        self._connected: asyncio.Event | None = None
        self._connection_task: asyncio.Task[None] | None = None
        self._connection_error: BaseException | None = None
        self._disconnecting = False
        self._worker_id: str | None = None
        self._request_ids = itertools.count(1)
        self._op_ids = itertools.count(1)
        # request id -> (reply, recipient, the peer it went to or None for the host)
        self._outgoing: dict[int, tuple[asyncio.Future[Any], AgentId, Peer | None]] = {}
        # (the stream to answer on, request id) -> the handler's task
        self._incoming: dict[tuple[ReplyTo, int], asyncio.Future[Any]] = {}
        self._ops: dict[int, asyncio.Future[pb.Ack]] = {}
        self._local_ids: set[AgentId] = set()
        self._chains = CallChains()
        self._wire_types: dict[type, tuple[str, str]] = {}
        self._ids = WireIds()
        self._liveness_timeout = liveness_timeout
        self._token = token
        self._direct_server_ssl: ssl.SSLContext | None = None
        self._direct_client_ssl: ssl.SSLContext | None = None
        if self._credentials is not None and direct_listen is not None:
            if tls_root_certificates is not None and tls_cert is not None and tls_key is not None:
                self._direct_server_ssl, self._direct_client_ssl = direct_ssl_contexts(
                    tls_root_certificates, tls_cert, tls_key
                )
            else:
                direct_listen = None  # nothing to prove who we are with: every request goes through the host
        self._direct_listen = direct_listen
        self._direct_advertise = direct_advertise
        self._direct_server: DirectServer | None = None
        self._direct_address = ""
        self._peers: dict[str, Peer] = {}
        self._direct: dict[AgentId, str] = {}  # where the host said an agent lives
        self._unreachable: dict[str, float] = {}  # direct addresses that refused us, until when
        # Event recipients by id, for this host stream, each with the value _local_drops had
        # when its ids were last put in _local_ids.
        self._recipient_lists: dict[int, tuple[list[AgentId], int]] = {}
        self._local_drops = 0  # how often an id left _local_ids

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:  # type: ignore[override]
        """Connect to the host and start delivering; raises if the host cannot be reached
        within ``connect_timeout`` or refuses this worker."""
        if self._connection_task is not None:
            raise RuntimeError("Runtime is already started")
        super().start()
        if self._direct_listen is not None and self._direct_server is None:
            self._direct_server = DirectServer(self, self._direct_listen, self._token, self._direct_server_ssl)
            port = await self._direct_server.start()
            listen_host = self._direct_listen.rsplit(":", 1)[0]
            self._direct_address = self._direct_advertise or f"{listen_host}:{port}"
        self._disconnecting = False
        self._connection_error = None
        self._connected = asyncio.Event()
        self._connection_task = asyncio.get_running_loop().create_task(self._run_connection())
        try:
            async with asyncio.timeout(self._connect_timeout):
                while not self._connected.is_set():
                    if self._connection_error is not None:
                        raise self._connection_error
                    await asyncio.sleep(0.01)
        except BaseException as e:
            await self._shutdown_connection()
            await self._shutdown_direct()
            await SingleThreadedAgentRuntime.stop(self)
            if isinstance(e, TimeoutError):
                raise HostUnavailableError(
                    f"Could not connect to the host at {self._host_address} within {self._connect_timeout} s"
                ) from None
            raise

    async def stop(self, grace: float = 5.0) -> None:
        """Let requests being handled finish (up to ``grace`` seconds), disconnect, and
        close every agent."""
        if self._connection_task is None:
            raise RuntimeError("Runtime is not started")
        if self._incoming:
            await asyncio.wait(list(self._incoming.values()), timeout=grace)
            for key in list(self._incoming):
                self._give_up(key)
        # Let the answers of the drained requests reach the wire.
        for _ in range(20):
            if not len(self._outbox) or self._connected is None or not self._connected.is_set():
                break
            await asyncio.sleep(0.01)
        await self._shutdown_connection()
        await self._shutdown_direct()
        try:
            if self._started:
                await SingleThreadedAgentRuntime.stop(self)
        finally:
            await super().close()

    async def close(self) -> None:
        if self._connection_task is not None:
            await self.stop()
        else:
            await super().close()

    async def stop_when_signal(self, signals: Sequence[signal.Signals] = DEFAULT_SIGNALS) -> None:
        """Wait for one of ``signals``, then stop."""
        await until_signal(signals)
        await self.stop()

    async def _shutdown_direct(self) -> None:
        server, self._direct_server = self._direct_server, None
        if server is not None:
            await server.stop()
        peers = [peer.task for peer in self._peers.values() if peer.task is not None]
        for task in peers:
            task.cancel()
        await asyncio.gather(*peers, return_exceptions=True)

    async def _shutdown_connection(self) -> None:
        self._disconnecting = True
        task, self._connection_task = self._connection_task, None
        self._outbox.close()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._lost_connection("the worker runtime stopped")

    # ------------------------------------------------------------------ the stream

    def _channel(self) -> grpc.aio.Channel:
        if self._credentials is not None:
            return grpc.aio.secure_channel(self._host_address, self._credentials, options=self._channel_options)
        return grpc.aio.insecure_channel(self._host_address, options=self._channel_options)

    def _handshake(self) -> list[pb.Envelope]:
        """Everything the host must know about this worker, re-sent on every connect."""
        hello = pb.Hello(
            protocol_version=PROTOCOL_VERSION, worker_name=self._worker_name, direct_address=self._direct_address
        )
        envelopes = [pb.Envelope(hello=hello)]
        for name, entry in self._factories.items():
            if entry.factory is not None:
                envelopes.append(pb.Envelope(declare_type=pb.DeclareType(op_id=0, agent_type=name)))
        for subscription in self._subscription_manager.subscriptions:
            envelopes.append(pb.Envelope(add_route=route_to_wire(subscription, 0)))
        if self._local_ids:
            claim = pb.Claim(op_id=0)
            for agent_id in self._local_ids:
                agent_to_wire(agent_id, claim.agents.add())
            envelopes.append(pb.Envelope(claim=claim))
        return envelopes

    async def _run_connection(self) -> None:
        backoff = 0.05
        while not self._disconnecting:
            channel = self._channel()
            outbox = self._outbox
            writer: asyncio.Task[None] | None = None
            heartbeat: asyncio.Task[None] | None = None
            try:
                call = channel.stream_stream(
                    CONNECT_METHOD,
                    request_serializer=already_serialized,
                    response_deserializer=pb.Frame.FromString,
                )(metadata=self._call_metadata)
                loop = asyncio.get_running_loop()
                self._recipient_lists.clear()  # ids name lists of one stream only
                writer = loop.create_task(_write_frames(call, outbox, self._handshake()))
                link = Link(loop.time())
                heartbeat = loop.create_task(
                    keep_alive(outbox, link, self._liveness_timeout, partial(_host_silent, call, self._host_address))
                )
                while True:
                    frame = await call.read()
                    if not isinstance(frame, pb.Frame):  # EOF
                        break
                    link.last_heard = loop.time()
                    for envelope in frame.envelopes:
                        kind = envelope.WhichOneof("body")
                        if kind == "event":
                            self._on_event(envelope.event)
                        elif kind == "request":
                            self._on_request(envelope.request, outbox)
                        elif kind == "response":
                            self._on_response(envelope.response)
                        elif kind == "cancel":
                            self._on_cancel(envelope.cancel.request_id, outbox)
                        elif kind == "ack":
                            self._on_ack(envelope.ack)
                        elif kind == "welcome":
                            self._on_welcome(envelope.welcome)
                            backoff = 0.05
                        elif kind == "heartbeat":
                            pass
                        else:
                            logger.warning("Ignored a %s envelope from the host", kind or "empty")
                reason = "the host closed the stream"
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is None or task.cancelling():
                    raise
                reason = "the host went silent"  # our heartbeat task cancelled the call
            except grpc.aio.AioRpcError as e:
                reason = f"{e.code().name}: {e.details()}"
                if e.code() in _FATAL_CODES:
                    logger.error("The host at %s refused this worker: %s", self._host_address, reason)
                    if self._connected is not None and not self._connected.is_set():
                        self._connection_error = ConnectionRefusedError(f"The host refused this worker: {reason}")
            except Exception as e:
                reason = f"{type(e).__name__}: {e}"
                logger.exception("Error in the worker's stream")
            finally:
                if writer is not None:
                    writer.cancel()
                    writer = None
                if heartbeat is not None:
                    heartbeat.cancel()
                    heartbeat = None
                was_connected = self._worker_id is not None
                self._worker_id = None
                if not self._disconnecting:
                    self._lost_connection(reason if "reason" in locals() else "stream ended")
                await channel.close(grace=None)
            if self._disconnecting:
                return
            if was_connected:
                logger.warning("Lost the host at %s (%s); reconnecting", self._host_address, reason)
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 2.0)

    def _on_welcome(self, welcome: pb.Welcome) -> None:
        self._worker_id = welcome.worker_id
        logger.info("Connected to the host at %s as %s", self._host_address, welcome.worker_id)
        assert self._connected is not None
        self._connected.set()

    def _lost_connection(self, reason: str) -> None:
        """Fail what the host owed us, stop what it asked of us, keep what can be re-sent."""
        if self._connected is not None:
            self._connected.clear()
        old = self._outbox
        old.close()
        self._outbox = Outbox(self._max_bytes)
        for data in old.take_replayable():  # publishes not yet written survive a reconnect
            self._outbox.put_serialized(data, replayable=True)
        for request_id, (reply, _, peer) in list(self._outgoing.items()):
            if peer is None:
                del self._outgoing[request_id]
                if not reply.done():
                    reply.set_exception(HostUnavailableError(f"Lost the connection to the host: {reason}"))
        self._route_closed(old)
        ops, self._ops = self._ops, {}
        for op in ops.values():
            if not op.done():
                op.set_result(pb.Ack())  # re-asserted by the next handshake

    async def _wait_connected(self, deadline: float | None) -> None:
        connected = self._connected
        if connected is None or self._connection_task is None:
            raise HostUnavailableError("The worker runtime is not started")
        if connected.is_set():
            return
        loop = self._get_loop()
        wait = None if deadline is None else deadline - loop.time()
        try:
            async with asyncio.timeout(wait):
                await connected.wait()
        except TimeoutError:
            raise HostUnavailableError(f"Not connected to the host at {self._host_address}") from None

    async def _operation(self, field: str, op: Any) -> None:
        """Send a registration-type envelope and wait for the host's Ack (if connected;
        otherwise the next handshake carries it)."""
        if self._connected is None or not self._connected.is_set():
            return
        op_id = next(self._op_ids)
        op.op_id = op_id
        envelope = pb.Envelope(**{field: op})
        ack: asyncio.Future[pb.Ack] = self._get_loop().create_future()
        self._ops[op_id] = ack
        self._outbox.put(envelope)
        try:
            async with asyncio.timeout(self._connect_timeout):
                result = await ack
        finally:
            self._ops.pop(op_id, None)
        if result.HasField("failure"):
            raise ValueError(f"The host refused: {result.failure.message}")

    def _on_ack(self, ack: pb.Ack) -> None:
        for ref in ack.refused:  # active elsewhere now (we were away): single activation wins
            try:
                self._local_ids.discard(self._ids.agent(ref))
                self._local_drops += 1
            except WireValidationError:
                pass
        future = self._ops.pop(ack.op_id, None)
        if future is not None and not future.done():
            future.set_result(ack)
        elif ack.HasField("failure"):
            logger.warning("The host refused part of this worker's registration: %s", ack.failure.message)

    # ------------------------------------------------------------------ payloads

    def add_message_serializer(self, serializer: MessageSerializer[Any] | Sequence[MessageSerializer[Any]]) -> None:
        super().add_message_serializer(serializer)
        self._wire_types.clear()

    def _wire_type(self, message: Any) -> tuple[str, str]:
        cls = type(message)
        found = self._wire_types.get(cls)
        if found is not None:
            return found
        registry = self._serialization_registry
        name = registry.type_name(message)
        formats = (self._format, JSON_DATA_CONTENT_TYPE, PROTOBUF_DATA_CONTENT_TYPE)
        content_type = next((ct for ct in formats if registry.is_registered(name, ct)), None)
        if content_type is None:
            known = try_get_known_serializers_for_type(cls)
            if not known:
                raise ValueError(
                    f"No serializer for message type {name!r}: messages that cross processes need one "
                    "(register it with add_message_serializer)"
                )
            registry.add_serializer(known)
            content_type = next(ct for ct in formats if registry.is_registered(name, ct))
        found = self._wire_types[cls] = (name, content_type)
        return found

    def _fill_payload(self, message: Any, payload: pb.Payload) -> None:
        name, content_type = self._wire_type(message)
        data = self._serialization_registry.serialize(message, type_name=name, data_content_type=content_type)
        if len(data) > self._max_payload:
            # Refused here: a frame over the limit would break the whole stream, not just this message.
            raise ValueError(
                f"{name} message of {len(data)} bytes is larger than this worker's limit of {self._max_payload} "
                "bytes (max_message_bytes, less room for the envelope)"
            )
        payload.type_name = name
        payload.content_type = content_type
        payload.data = data

    def _read_payload(self, payload: pb.Payload) -> Any:
        try:
            message = self._serialization_registry.deserialize(
                payload.data, type_name=payload.type_name, data_content_type=payload.content_type
            )
        except Exception as e:
            raise WireValidationError(f"Malformed {payload.type_name[:100]!r} payload: {e}") from None
        if isinstance(message, UnknownPayload):
            raise WireValidationError(
                f"No serializer for message type {payload.type_name[:100]!r} ({payload.content_type[:50]}) "
                "on this worker (register it with add_message_serializer)"
            )
        return message

    # ------------------------------------------------------------------ requests out

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send a request; an agent known to be active here is called in-process,
        any other goes through the host. Same errors as in-process, plus
        RemoteHandlerError, WorkerLostError and HostUnavailableError."""
        if recipient.__class__ is not AgentId and not isinstance(recipient, AgentId):
            raise TypeError(f"recipient must be an AgentId, got {type(recipient).__name__}")  # before hashing it
        if recipient in self._local_ids:
            return await super().send_message(
                message,
                recipient,
                sender=sender,
                cancellation_token=cancellation_token,
                message_id=message_id,
                timeout=timeout,
            )
        deadline, parent = self._deadline(recipient, timeout)
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError(f"Request to {recipient} cancelled before it was sent")
        envelope = pb.Envelope()
        request = envelope.request
        request.message_id = message_id if message_id is not None else self._new_message_id()
        self._fill_payload(message, request.payload)
        agent_to_wire(recipient, request.target)
        if sender is not None:
            agent_to_wire(sender, request.sender)
        if self._tracer is not None:
            propagate.inject(request.metadata)
        exported = self._chains.export(parent, request.chain) if parent is not None else None
        try:
            while True:
                peer = self._peer_for(recipient)
                if peer is None:
                    connected = self._connected
                    if connected is None or not connected.is_set():
                        await self._wait_connected(deadline)
                try:
                    return await self._round_trip(envelope, recipient, peer, deadline, cancellation_token)
                except _NotHere:
                    self._direct.pop(recipient, None)  # it moved (or its worker lost the host): ask the host
                    if peer is None:
                        raise WorkerLostError(f"{recipient} could not be reached") from None
        finally:
            if exported:
                self._chains.release(exported)

    async def _round_trip(
        self,
        envelope: pb.Envelope,
        recipient: AgentId,
        peer: Peer | None,
        deadline: float | None,
        cancellation_token: CancellationToken | None,
    ) -> Any:
        """Send the request once (through the host, or to ``peer``) and wait for its answer."""
        loop = self._get_loop()
        request = envelope.request
        request_id = next(self._request_ids)
        request.request_id = request_id
        if deadline is not None:
            request.budget_us = max(1, int((deadline - loop.time()) * 1_000_000))
        reply: asyncio.Future[Any] = loop.create_future()
        self._outgoing[request_id] = (reply, recipient, peer)
        outbox = self._outbox if peer is None else peer.outbox
        if peer is not None:
            peer.pending.add(request_id)
        outbox.put(envelope)
        try:
            return await self._wait_bounded(reply, recipient, cancellation_token, deadline)
        finally:
            if self._outgoing.pop(request_id, None) is not None:
                # We gave up before an answer came: tell the callee to stop.
                outbox.put(pb.Envelope(cancel=pb.Cancel(request_id=request_id)))
            if peer is not None:
                peer.pending.discard(request_id)

    # ------------------------------------------------------------------ the direct path

    def _peer_for(self, recipient: AgentId) -> Peer | None:
        address = self._direct.get(recipient)
        if address is None:
            return None
        peer = self._peers.get(address)
        if peer is None:
            peer = self._peers[address] = new_peer(self, address)
        return peer

    def _remember_direct(self, recipient: AgentId, address: str) -> None:
        if address == self._direct_address or len(address) > 256:
            return
        if self._unreachable and address in self._unreachable:
            if self._unreachable[address] > self._get_loop().time():
                return
            del self._unreachable[address]
        if len(self._direct) >= 100_000:
            self._direct.clear()
        self._direct[recipient] = address

    def _peer_lost(self, peer: Peer, reason: str) -> None:
        """A direct connection ended: go through the host again. What it owed fails, unless
        the other side never accepted the connection: then nothing was delivered, and the
        requests are sent through the host instead."""
        if self._peers.get(peer.address) is peer:
            del self._peers[peer.address]
        peer.outbox.close()
        for agent_id in [a for a, address in self._direct.items() if address == peer.address]:
            del self._direct[agent_id]
        if not peer.welcomed and not self._disconnecting:
            logger.warning(
                "No direct connection to %s (%s); requests to its agents go through the host for %g s",
                peer.address,
                reason,
                _UNREACHABLE_FOR,
            )
            self._unreachable[peer.address] = self._get_loop().time() + _UNREACHABLE_FOR
        for request_id in list(peer.pending):
            entry = self._outgoing.pop(request_id, None)
            if entry is not None and not entry[0].done():
                if peer.welcomed:
                    entry[0].set_exception(WorkerLostError(f"The worker holding {entry[1]} went away ({reason})"))
                else:
                    entry[0].set_exception(_NotHere())
        peer.pending.clear()

    def _route_closed(self, outbox: ReplyTo) -> None:
        """A stream we were answering on is gone: stop the handlers working for it."""
        for key in [key for key in self._incoming if key[0] is outbox]:
            self._give_up(key)

    def _on_response(self, response: pb.Response) -> None:
        entry = self._outgoing.pop(response.request_id, None)
        if entry is None:
            return
        reply, recipient, peer = entry
        if response.direct_address and peer is None and self._direct_listen is not None:
            self._remember_direct(recipient, response.direct_address)
        if reply.done():
            return
        outcome = response.WhichOneof("outcome")
        if outcome == "result":
            try:
                reply.set_result(self._read_payload(response.result))
            except WireValidationError as e:
                reply.set_exception(e)
        elif outcome == "failure":
            failure = response.failure
            reply.set_exception(_NotHere() if failure.kind == Kind.NOT_HERE else exception_of(failure))
        else:
            reply.set_result(None)

    # ------------------------------------------------------------------ requests in

    def _on_request(self, request: pb.Request, reply_to: ReplyTo, *, direct: bool = False) -> None:
        request_id = request.request_id
        try:
            target = self._ids.agent(request.target)
            sender = self._ids.agent(request.sender) if request.HasField("sender") else None
            message = self._read_payload(request.payload)
            if len(request.message_id) > 512 or len(request.chain) > _MAX_CHAIN:
                raise WireValidationError("message id or call chain too long")
            if request.chain and any(len(frame_id) > MAX_FRAME_ID for frame_id in request.chain):
                raise WireValidationError("call frame id too long")
        except WireValidationError as e:
            self._answer(request_id, failure_of(e), reply_to)
            return
        if direct:
            if target not in self._local_ids or self._worker_id is None:
                self._answer(request_id, pb.Failure(kind=Kind.NOT_HERE, message=f"{target} is not here"), reply_to)
                return
        else:
            self._local_ids.add(target)
        loop = self._get_loop()
        budget = request.budget_us / 1_000_000 if 0 < request.budget_us < _MAX_BUDGET_US else None
        context = contextvars.Context()  # fresh: nothing of the stream reader leaks into handlers
        frame = None
        if request.chain:
            deadline = None if budget is None else loop.time() + budget
            frame = self._chains.stand_in(sender, deadline, request.chain)
            context.run(CURRENT_FRAME.set, frame)
        if self._tracer is not None and request.metadata:
            context.run(otel_context.attach, propagate.extract(dict(request.metadata)))
        timeout = math.inf if budget is None else budget
        key = (reply_to, request_id)
        if self._observed():
            # Interventions and spans run in a task of their own, started eagerly like every
            # handler: a request whose handler does not wait is answered within this call.
            task, _ = start_task(
                loop, self._serve(key, message, target, sender, timeout, request.message_id, frame), context, None
            )
            if task is not None:  # still running: a cancel from the caller can reach it
                self._incoming[key] = task
            return
        # Otherwise no task is needed around the handler's own: the answer goes out when
        # the reply is done (or at once, if the handler finished in its first step).
        try:
            reply, result = context.run(self._request_nowait, message, target, sender, request.message_id, timeout)
        except (Exception, asyncio.CancelledError) as e:  # a handler may raise CancelledError itself
            self._served(key, frame, None, e)
            return
        if reply is None:
            self._served(key, frame, result, None)
            return
        self._incoming[key] = reply
        reply.add_done_callback(partial(self._reply_served, key, frame))

    def _reply_served(self, key: tuple[ReplyTo, int], frame: CallFrame | None, reply: asyncio.Future[Any]) -> None:
        if reply.cancelled():
            # Still registered: the handler's task ended cancelled by itself, and the caller
            # hears of it. Otherwise _give_up cancelled it: nobody reads an answer.
            self._served(key, frame, None, asyncio.CancelledError(), answer=key in self._incoming)
            return
        exc = reply.exception()
        self._served(key, frame, None if exc is not None else reply.result(), exc)

    def _served(
        self,
        key: tuple[ReplyTo, int],
        frame: CallFrame | None,
        result: Any,
        exc: BaseException | None,
        *,
        answer: bool = True,
    ) -> None:
        """A request from another process is over: answer it with its outcome, unless its
        caller gave up (``answer=False``)."""
        self._incoming.pop(key, None)
        if frame is not None:
            self._chains.end(frame)
        if not answer:
            return
        reply_to, request_id = key
        if exc is None:
            envelope = pb.Envelope()
            envelope.response.request_id = request_id
            try:
                if result is not None:
                    self._fill_payload(result, envelope.response.result)
            except Exception as e:  # no serializer, or too large: the caller hears why
                exc = e
            else:
                reply_to.put(envelope)
                return
        self._answer(request_id, failure_of(exc), reply_to)

    async def _serve(
        self,
        key: tuple[ReplyTo, int],
        message: Any,
        target: AgentId,
        sender: AgentId | None,
        timeout: float,
        message_id: str,
        frame: CallFrame | None,
    ) -> None:
        try:
            result = await SingleThreadedAgentRuntime.send_message(
                self, message, target, sender=sender, message_id=message_id or None, timeout=timeout
            )
        except asyncio.CancelledError as e:
            task = asyncio.current_task()
            # Cancelled from outside: the caller gave up (or the connection went). Otherwise
            # the handler raised it itself, and the caller hears of it.
            self._served(key, frame, None, e, answer=task is None or not task.cancelling())
            return
        except Exception as e:
            self._served(key, frame, None, e)
            return
        self._served(key, frame, result, None)

    def _answer(self, request_id: int, failure: pb.Failure, reply_to: ReplyTo) -> None:
        reply_to.put(pb.Envelope(response=pb.Response(request_id=request_id, failure=failure)))

    def _on_cancel(self, request_id: int, reply_to: ReplyTo) -> None:
        self._give_up((reply_to, request_id))

    def _give_up(self, key: tuple[ReplyTo, int]) -> None:
        """Stop a request served for another process whose caller no longer waits (it
        cancelled, its connection went, or this worker stops): nobody reads an answer. The
        entry goes first, so that the end of the request can tell this cancel from a handler
        that raised CancelledError itself."""
        served = self._incoming.pop(key, None)
        if served is not None:
            served.cancel()

    # ------------------------------------------------------------------ events

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> None:
        """Publish through the host, which delivers it once to every subscribed agent on
        any worker (except the sender). Returns once queued for the host; interventions
        run here, before it leaves."""
        if not isinstance(topic_id, TopicId):
            raise TypeError(f"topic_id must be a TopicId, got {type(topic_id).__name__}")
        if message_id is None:
            message_id = self._new_message_id()
        if self._intervention_handlers:
            ctx = MessageContext(sender, topic_id, False, cancellation_token or CancellationToken(), message_id)
            for handler in self._intervention_handlers:
                result = await handler.on_publish(message, message_context=ctx)
                if is_drop(result):
                    return
                message = result
        envelope = pb.Envelope()
        event = envelope.event
        event.message_id = message_id
        event.topic_type = topic_id.type
        event.topic_source = topic_id.source
        self._fill_payload(message, event.payload)
        if sender is not None:
            agent_to_wire(sender, event.sender)
        if self._tracer is not None:
            propagate.inject(event.metadata)
        self._outbox.put(envelope, replayable=True)
        while len(self._outbox) > _PUBLISH_BACKLOG and self._connection_task is not None:
            await asyncio.sleep(0.001)  # backpressure: let the stream catch up
        # As in-process: a tight loop of publishes lets other tasks run every few messages,
        # the stream's writer among them, so a burst starts flowing before it ends.
        await self._maybe_yield()

    def _on_event(self, event: pb.Event) -> None:
        try:
            ids = self._ids
            topic = ids.topic(event.topic_type, event.topic_source)
            sender = ids.agent(event.sender) if event.HasField("sender") else None
            recipients = self._recipients(event)
            message = self._read_payload(event.payload)
        except WireValidationError as e:
            logger.error("Dropped an event from the host: %s", e)
            return
        token = None
        if self._tracer is not None and event.metadata:
            token = otel_context.attach(propagate.extract(dict(event.metadata)))
        try:
            self._fan_out(message, topic, recipients, sender, CancellationToken(), event.message_id)
        finally:
            if token is not None:
                otel_context.detach(token)

    def _recipients(self, event: pb.Event) -> list[AgentId]:
        """Who gets ``event`` here: the list it carries, or the one the host sent before
        under its ``recipients_id`` on this stream. The host placed them all here, so they
        are (again) local ids: a list already seen is added only if an id was dropped since."""
        list_id = event.recipients_id
        if not list_id or event.recipients:
            ids = self._ids
            recipients = [ids.agent(ref) for ref in event.recipients]
            self._local_ids.update(recipients)
            if list_id:
                if len(self._recipient_lists) >= _MAX_RECIPIENT_LISTS:
                    self._recipient_lists.clear()
                self._recipient_lists[list_id] = (recipients, self._local_drops)
            return recipients
        found = self._recipient_lists.get(list_id)
        if found is None:
            raise WireValidationError(f"unknown recipient list {list_id}")
        recipients, drops = found
        if drops != self._local_drops:
            self._local_ids.update(recipients)
            self._recipient_lists[list_id] = (recipients, self._local_drops)
        return recipients

    # ------------------------------------------------------------------ registration

    async def register_factory(
        self,
        type: str | AgentType,
        agent_factory: Callable[[], T | Awaitable[T]],
        *,
        expected_class: type[T] | None = None,
        idle_timeout: float | None = None,
        max_live: int | None = None,
        persistent: bool | None = None,
    ) -> AgentType:
        """Register a factory here and tell the host this worker serves the type; many
        workers may serve one type (each key is active on one of them). The lifecycle
        options are the single-threaded runtime's (docs/lifecycle.md): an agent
        deactivated here is re-created here on its next message (its placement stays)."""
        agent_type = await super().register_factory(
            type,
            agent_factory,
            expected_class=expected_class,
            idle_timeout=idle_timeout,
            max_live=max_live,
            persistent=persistent,
        )
        op = pb.DeclareType(agent_type=agent_type.type)
        await self._operation("declare_type", op)
        return agent_type

    async def register_agent_instance(self, agent_instance: Agent, agent_id: AgentId) -> AgentId:
        """Register an instance here; the host routes its id to this worker."""
        result = await super().register_agent_instance(agent_instance, agent_id)
        self._local_ids.add(agent_id)
        op = pb.Claim()
        agent_to_wire(agent_id, op.agents.add())
        await self._operation("claim", op)
        return result

    async def add_subscription(self, subscription: Subscription) -> None:
        route = route_to_wire(subscription, 0)  # refuses kinds the host cannot route, before anything changes
        await super().add_subscription(subscription)
        try:
            await self._operation("add_route", route)
        except ValueError:
            await super().remove_subscription(subscription.id)
            raise

    async def remove_subscription(self, id: str) -> None:
        await super().remove_subscription(id)
        op = pb.RemoveRoute(subscription_id=id)
        await self._operation("remove_route", op)

    # ------------------------------------------------------------------ agents that live here

    async def _ensure_local(self, agent_id: AgentId) -> None:
        """Make ``agent_id`` active on this worker (asking the host), or raise NotAccessibleError."""
        if agent_id in self._local_ids:
            return
        if agent_id.type not in self._factories:
            raise NotAccessibleError(f"{agent_id} is not an agent of this worker")
        if self._connected is not None and self._connected.is_set():
            op = pb.Claim()
            agent_to_wire(agent_id, op.agents.add())
            try:
                await self._operation("claim", op)
            except ValueError as e:
                raise NotAccessibleError(f"{agent_id} is active on another worker: {e}") from None
        self._local_ids.add(agent_id)

    async def _get_agent(self, agent_id: AgentId) -> Agent:
        # Every way of reaching an agent object (try_get_underlying_agent_instance,
        # get(lazy=False), agent_metadata, agent_save_state, agent_load_state) comes here:
        # the agent is made here only after the host agreed it is not active elsewhere.
        await self._ensure_local(agent_id)
        return await super()._get_agent(agent_id)

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Load a ``save_state()`` snapshot into this worker; each agent in it is claimed here
        first (NotAccessibleError if one is active on another worker)."""
        for key in state:
            agent_id = AgentId.from_str(key)
            if agent_id.type in self._factories:
                await self._ensure_local(agent_id)
        await super().load_state(state)


class _NotHere(Exception):
    """A direct request reached a worker that does not hold the agent (any more)."""


def _host_silent(call: Any, address: str) -> None:
    logger.warning("Nothing heard from the host at %s within the liveness timeout; reconnecting", address)
    call.cancel()


async def _write_frames(call: Any, outbox: Outbox, handshake: list[pb.Envelope]) -> None:
    """The stream's writer: explicit write() calls cost less than grpc consuming a generator."""
    try:
        async for frame in outbox.frames(first=handshake):
            await call.write(frame)
        await call.done_writing()
    except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
        pass  # the reader sees the stream end and reconnects


__all__ = ["GrpcWorkerAgentRuntime"]
