"""The host: a directory and router between workers.

It knows which workers serve which agent types, where each AgentId is active (placement)
and every subscription. It holds no agents and nothing that workers cannot re-assert
after a restart: when a worker (re)connects it declares its types, routes and the agents
it holds, and the host rebuilds its tables from that.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal
from collections.abc import Sequence
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from ...base import AgentId, Subscription, TopicId
from ...base._constants import ROOT_LOGGER_NAME
from ._errors import WireValidationError
from ._proto import actorgen_wire_pb2 as pb
from ._signals import DEFAULT_SIGNALS, until_signal
from ._wire import (
    DEFAULT_MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    SERVICE_NAME,
    Kind,
    Outbox,
    WireIds,
    accept_stream,
    agent_from_wire,
    agent_to_wire,
    already_serialized,
    route_from_wire,
)

logger = logging.getLogger(f"{ROOT_LOGGER_NAME}.grpc.host")

ChannelArgumentType = Sequence[tuple[str, Any]]

_KEEPALIVE_OPTIONS: list[tuple[str, Any]] = [
    # Ping idle streams so a worker that vanished without closing its socket (power loss,
    # network partition) is noticed within seconds, not at the next TCP timeout.
    ("grpc.keepalive_time_ms", 2000),
    ("grpc.keepalive_timeout_ms", 2000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 1000),
    ("grpc.http2.max_pings_without_data", 0),
]


_MAX_RECIPIENT_LISTS = 4096


class _Worker:
    """One connected worker stream."""

    __slots__ = (
        "agents",
        "direct_address",
        "last_heard",
        "name",
        "outbox",
        "peer",
        "recipient_lists",
        "routes",
        "types",
        "worker_id",
    )

    def __init__(self, worker_id: str, name: str, peer: str, max_bytes: int) -> None:
        self.worker_id = worker_id
        self.name = name
        self.peer = peer
        self.outbox = Outbox(max_bytes)
        self.types: set[str] = set()
        self.routes: set[str] = set()
        self.agents: set[AgentId] = set()
        self.last_heard = 0.0
        self.direct_address = ""
        # Recipient lists sent on this stream, by the id that names them (Event.recipients_id).
        self.recipient_lists: dict[tuple[AgentId, ...], int] = {}

    def __repr__(self) -> str:
        return f"worker {self.worker_id} ({self.name or 'unnamed'} at {self.peer})"


class _Forwarded:
    """A request the host passed on and whose answer it still owes the caller."""

    __slots__ = ("caller", "caller_request_id", "target")

    def __init__(self, caller: _Worker, caller_request_id: int, target: _Worker) -> None:
        self.caller = caller
        self.caller_request_id = caller_request_id
        self.target = target


class _Directory:
    """Agent types, placements and subscriptions across all connected workers."""

    def __init__(self) -> None:
        self.workers_of_type: dict[str, list[_Worker]] = {}
        self.placement: dict[AgentId, _Worker] = {}
        self._next_worker: dict[str, int] = {}
        self.routes: dict[str, tuple[Subscription, _Worker]] = {}
        self._route_cache: dict[tuple[str, str], tuple[AgentId, ...]] = {}

    def owner(self, agent_id: AgentId) -> _Worker | None:
        """The worker where ``agent_id`` is active, placing it if it is nowhere yet.

        None when no worker serves its type. New keys go round-robin over the workers of
        the type, so they spread; a placed key stays where it is (sticky) until its
        worker leaves.
        """
        worker = self.placement.get(agent_id)
        if worker is not None:
            return worker
        candidates = self.workers_of_type.get(agent_id.type)
        if not candidates:
            return None
        index = self._next_worker.get(agent_id.type, 0) % len(candidates)
        self._next_worker[agent_id.type] = index + 1
        worker = candidates[index]
        self.placement[agent_id] = worker
        worker.agents.add(agent_id)
        return worker

    def add_type(self, worker: _Worker, agent_type: str) -> bool:
        if agent_type in worker.types:
            return False
        worker.types.add(agent_type)
        self.workers_of_type.setdefault(agent_type, []).append(worker)
        return True

    def claim(self, worker: _Worker, agent_id: AgentId) -> _Worker | None:
        """Record that ``agent_id`` is active on ``worker``; returns another owner if there is one."""
        current = self.placement.get(agent_id)
        if current is not None and current is not worker:
            return current
        self.placement[agent_id] = worker
        worker.agents.add(agent_id)
        return None

    def add_route(self, worker: _Worker, subscription: Subscription) -> None:
        existing = self.routes.get(subscription.id)
        if existing is not None and existing[1] is not worker:
            raise ValueError(f"Subscription id {subscription.id!r} is already used by another worker")
        self.routes[subscription.id] = (subscription, worker)
        worker.routes.add(subscription.id)
        self._route_cache.clear()

    def remove_route(self, worker: _Worker, subscription_id: str) -> None:
        existing = self.routes.get(subscription_id)
        if existing is None or existing[1] is not worker:
            raise LookupError(f"Subscription does not exist: {subscription_id!r}")
        del self.routes[subscription_id]
        worker.routes.discard(subscription_id)
        self._route_cache.clear()

    def recipients(self, topic: TopicId) -> tuple[AgentId, ...]:
        key = (topic.type, topic.source)
        found = self._route_cache.get(key)
        if found is None:
            seen: dict[AgentId, None] = {}
            for subscription, _ in self.routes.values():
                if subscription.is_match(topic):
                    seen[subscription.map_to_agent(topic)] = None
            found = tuple(seen)
            if len(self._route_cache) >= 10_000:
                self._route_cache.clear()
            self._route_cache[key] = found
        return found

    def remove_worker(self, worker: _Worker) -> None:
        for agent_type in worker.types:
            workers = self.workers_of_type.get(agent_type)
            if workers is not None:
                workers.remove(worker)
                if not workers:
                    del self.workers_of_type[agent_type]
        for agent_id in worker.agents:
            if self.placement.get(agent_id) is worker:
                del self.placement[agent_id]
        for subscription_id in worker.routes:
            self.routes.pop(subscription_id, None)
        self._route_cache.clear()


class GrpcWorkerAgentRuntimeHost:
    """Serves the workers' streams on ``address`` (``host:port``).

    Args:
        address: where to listen, e.g. ``"127.0.0.1:50051"``.
        extra_grpc_config: extra gRPC server options (``(name, value)`` pairs).
        token: if set, every worker must present it (``authorization: Bearer <token>``);
            others are refused with UNAUTHENTICATED. Never logged.
        tls_cert, tls_key: PEM bytes of the server certificate chain and key; with them the
            host serves TLS only.
        tls_client_ca: PEM bytes of the CA that signs worker certificates; with it, workers
            must present a certificate (mutual TLS).
        max_message_bytes: largest frame accepted (and sent).
        liveness_timeout: a worker from which nothing (not even a heartbeat) arrived for
            this many seconds is cut off: its agents are re-placed, requests it owed fail.
    """

    def __init__(
        self,
        address: str,
        extra_grpc_config: ChannelArgumentType | None = None,
        *,
        token: str | None = None,
        tls_cert: bytes | None = None,
        tls_key: bytes | None = None,
        tls_client_ca: bytes | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        liveness_timeout: float = 5.0,
    ) -> None:
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key must be given together")
        if tls_client_ca is not None and tls_cert is None:
            raise ValueError("tls_client_ca (mutual TLS) needs tls_cert and tls_key")
        self._address = address
        self._token = token
        self._max_bytes = max_message_bytes
        self._options: list[tuple[str, Any]] = [
            *_KEEPALIVE_OPTIONS,
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            *(extra_grpc_config or ()),
        ]
        self._credentials: grpc.ServerCredentials | None = None
        if tls_cert is not None and tls_key is not None:
            self._credentials = grpc.ssl_server_credentials(
                [(tls_key, tls_cert)],
                root_certificates=tls_client_ca,
                require_client_auth=tls_client_ca is not None,
            )
        self._server: grpc.aio.Server | None = None
        self._directory = _Directory()
        self._workers: dict[str, _Worker] = {}
        self._forwarded: dict[int, _Forwarded] = {}
        self._by_caller: dict[tuple[str, int], int] = {}
        self._request_ids = itertools.count(1)
        self._ids = WireIds()
        self._worker_ids = itertools.count(1)
        self._health: Any = None
        self._bound_port: int | None = None
        self._liveness_timeout = liveness_timeout
        self._monitor: asyncio.Task[None] | None = None
        self._serving: asyncio.Task[None] | None = None

    @property
    def port(self) -> int | None:
        """The TCP port the host listens on once started (useful with port 0)."""
        return self._bound_port

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start serving (needs a running event loop); returns at once."""
        if self._server is not None:
            raise RuntimeError("Host runtime is already started.")
        server = grpc.aio.server(options=self._options)
        handler = grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "Connect": grpc.stream_stream_rpc_method_handler(
                    self._connect,
                    request_deserializer=pb.Frame.FromString,
                    response_serializer=already_serialized,
                )
            },
        )
        server.add_generic_rpc_handlers((handler,))
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        if self._credentials is not None:
            self._bound_port = server.add_secure_port(self._address, self._credentials)
        else:
            self._bound_port = server.add_insecure_port(self._address)
        if not self._bound_port:
            raise RuntimeError(f"Could not listen on {self._address}")
        self._server = server
        loop = asyncio.get_running_loop()
        self._serving = loop.create_task(self._serve(server))
        self._monitor = loop.create_task(self._watch_liveness())

    async def _serve(self, server: grpc.aio.Server) -> None:
        await server.start()
        for service in ("", SERVICE_NAME):
            await self._health.set(service, health_pb2.HealthCheckResponse.SERVING)
        logger.info("Host serving at %s (%s)", self._address, "TLS" if self._credentials else "plaintext")

    async def stop(self, grace: float = 5) -> None:
        """Stop serving; open streams get ``grace`` seconds to finish."""
        server = self._server
        if server is None:
            raise RuntimeError("Host runtime is not started.")
        self._server = None
        if self._monitor is not None:
            self._monitor.cancel()
            self._monitor = None
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        for worker in list(self._workers.values()):
            worker.outbox.close()
        await server.stop(grace)

    async def stop_when_signal(self, grace: float = 5, signals: Sequence[signal.Signals] = DEFAULT_SIGNALS) -> None:
        """Wait for one of ``signals``, then stop."""
        await until_signal(signals)
        await self.stop(grace)

    async def _watch_liveness(self) -> None:
        """Send every worker a heartbeat each second; cut off those not heard from in time."""
        loop = asyncio.get_running_loop()
        heartbeat = pb.Envelope(heartbeat=pb.Heartbeat())
        while True:
            await asyncio.sleep(min(1.0, self._liveness_timeout / 3))
            now = loop.time()
            for worker in list(self._workers.values()):
                if now - worker.last_heard > self._liveness_timeout:
                    logger.warning("Cut off %s: nothing heard for %.1f s", worker, now - worker.last_heard)
                    worker.outbox.close()
                    self._drop(worker)
                else:
                    worker.outbox.put(heartbeat)

    # ------------------------------------------------------------------ streams

    async def _connect(self, _requests: object, context: grpc.aio.ServicerContext[pb.Frame, bytes]) -> None:
        # Explicit read()/write() rather than an async generator: grpc then runs no extra
        # task per stream to consume it, which is most of a frame's cost in Python.
        peer = context.peer()
        first = await accept_stream(context, self._token, "connection")
        hello = first.envelopes[0].hello
        if hello.peer:
            logger.warning("Refused a connection from %s: a worker-to-worker stream sent to the host", peer)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "this is the host, not a worker")
        if hello.protocol_version != PROTOCOL_VERSION:
            logger.warning(
                "Refused a connection from %s: protocol version %d (this host speaks %d)",
                peer,
                hello.protocol_version,
                PROTOCOL_VERSION,
            )
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"protocol version {hello.protocol_version} not supported; this host speaks {PROTOCOL_VERSION}",
            )
        worker = _Worker(f"w{next(self._worker_ids)}", hello.worker_name[:200], peer, self._max_bytes)
        worker.last_heard = asyncio.get_running_loop().time()
        worker.direct_address = _usable_direct_address(hello.direct_address, peer)
        self._workers[worker.worker_id] = worker
        logger.info("%s connected", worker)
        worker.outbox.put(
            pb.Envelope(welcome=pb.Welcome(protocol_version=PROTOCOL_VERSION, worker_id=worker.worker_id))
        )
        reader = asyncio.get_running_loop().create_task(self._read(worker, first, context))
        try:
            async for frame in worker.outbox.frames():
                await context.write(frame)
        finally:
            reader.cancel()
            self._drop(worker)

    async def _read(self, worker: _Worker, first: pb.Frame, context: grpc.aio.ServicerContext[pb.Frame, bytes]) -> None:
        try:
            for envelope in first.envelopes[1:]:
                self._dispatch(worker, envelope)
            loop = asyncio.get_running_loop()
            while True:
                frame = await context.read()
                if not isinstance(frame, pb.Frame):  # EOF: the worker closed its side
                    break
                worker.last_heard = loop.time()
                for envelope in frame.envelopes:
                    self._dispatch(worker, envelope)
        except _Misbehaving as e:
            logger.warning("Cut off %s: %s", worker, e)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the stream broke: bad frame, size limit, peer reset
            logger.info("%s stream ended: %s", worker, _short(e))
        finally:
            worker.outbox.close()

    def _drop(self, worker: _Worker) -> None:
        if self._workers.pop(worker.worker_id, None) is None:
            return
        self._directory.remove_worker(worker)
        for request_id, forwarded in list(self._forwarded.items()):
            if forwarded.target is worker:
                self._answer(
                    forwarded,
                    request_id,
                    pb.Failure(kind=Kind.WORKER_LOST, message=f"the worker holding the recipient ({worker}) went away"),
                )
            elif forwarded.caller is worker:
                del self._forwarded[request_id]
                self._by_caller.pop((worker.worker_id, forwarded.caller_request_id), None)
                forwarded.target.outbox.put(pb.Envelope(cancel=pb.Cancel(request_id=request_id)))
        logger.info(
            "%s disconnected; its types %s and %d placed agents are released",
            worker,
            sorted(worker.types),
            len(worker.agents),
        )

    # ------------------------------------------------------------------ routing

    def _dispatch(self, worker: _Worker, envelope: pb.Envelope) -> None:
        kind = envelope.WhichOneof("body")
        if kind == "request":
            self._on_request(worker, envelope)
        elif kind == "response":
            self._on_response(worker, envelope)
        elif kind == "event":
            self._on_event(worker, envelope)
        elif kind == "cancel":
            self._on_cancel(worker, envelope.cancel.request_id)
        elif kind == "declare_type":
            self._on_declare_type(worker, envelope.declare_type)
        elif kind == "add_route":
            self._on_add_route(worker, envelope.add_route)
        elif kind == "remove_route":
            self._on_remove_route(worker, envelope.remove_route)
        elif kind == "claim":
            self._on_claim(worker, envelope.claim)
        elif kind == "heartbeat":
            pass  # reading the frame already counted as hearing from the worker
        else:
            raise _Misbehaving(f"a worker may not send {kind or 'an empty envelope'}")

    def _on_request(self, caller: _Worker, envelope: pb.Envelope) -> None:
        request = envelope.request
        caller_request_id = request.request_id
        try:
            target_id = self._ids.agent(request.target)
            if request.HasField("sender"):
                self._ids.agent(request.sender)
        except WireValidationError as e:
            self._reply(caller, caller_request_id, pb.Failure(kind=Kind.INVALID, message=str(e)))
            return
        target = self._directory.owner(target_id)
        if target is None:
            self._reply(
                caller,
                caller_request_id,
                pb.Failure(
                    kind=Kind.AGENT_NOT_FOUND,
                    type_name="AgentNotFoundError",
                    message=f"Recipient not found: no worker serves agent type {target_id.type!r}",
                ),
            )
            return
        request_id = next(self._request_ids)
        self._forwarded[request_id] = _Forwarded(caller, caller_request_id, target)
        self._by_caller[(caller.worker_id, caller_request_id)] = request_id
        request.request_id = request_id
        target.outbox.put(envelope)

    def _on_response(self, worker: _Worker, envelope: pb.Envelope) -> None:
        response = envelope.response
        forwarded = self._forwarded.get(response.request_id)
        if forwarded is None or forwarded.target is not worker:
            return  # the caller gave up (or this worker was not asked): nobody waits for it
        del self._forwarded[response.request_id]
        self._by_caller.pop((forwarded.caller.worker_id, forwarded.caller_request_id), None)
        response.request_id = forwarded.caller_request_id
        if worker.direct_address and forwarded.caller is not worker:
            response.direct_address = worker.direct_address  # later requests may go straight there
        forwarded.caller.outbox.put(envelope)

    def _answer(self, forwarded: _Forwarded, request_id: int, failure: pb.Failure) -> None:
        del self._forwarded[request_id]
        self._by_caller.pop((forwarded.caller.worker_id, forwarded.caller_request_id), None)
        self._reply(forwarded.caller, forwarded.caller_request_id, failure)

    def _reply(self, caller: _Worker, request_id: int, failure: pb.Failure) -> None:
        caller.outbox.put(pb.Envelope(response=pb.Response(request_id=request_id, failure=failure)))

    def _on_cancel(self, caller: _Worker, caller_request_id: int) -> None:
        request_id = self._by_caller.pop((caller.worker_id, caller_request_id), None)
        if request_id is None:
            return
        forwarded = self._forwarded.pop(request_id)
        forwarded.target.outbox.put(pb.Envelope(cancel=pb.Cancel(request_id=request_id)))

    def _on_event(self, publisher: _Worker, envelope: pb.Envelope) -> None:
        event = envelope.event
        try:
            topic = self._ids.topic(event.topic_type, event.topic_source)
            sender = self._ids.agent(event.sender) if event.HasField("sender") else None
        except WireValidationError as e:
            logger.warning("Dropped an event from %s: %s", publisher, e)
            return
        by_worker: dict[_Worker, list[AgentId]] = {}
        directory = self._directory
        for recipient in directory.recipients(topic):
            if recipient == sender:
                continue
            owner = directory.owner(recipient)
            if owner is None:
                logger.warning(
                    "Event on %s for %s not delivered: no worker serves %r", topic, recipient, recipient.type
                )
                continue
            by_worker.setdefault(owner, []).append(recipient)
        for owner, recipients in by_worker.items():
            # The envelope is re-serialized per owner with that owner's recipients only; a
            # list already sent on that stream goes by its id.
            del event.recipients[:]
            key = tuple(recipients)
            lists = owner.recipient_lists
            list_id = lists.get(key)
            if list_id is None:
                if len(lists) >= _MAX_RECIPIENT_LISTS:
                    lists.clear()  # ids start over; each is sent with its list before it is used
                list_id = lists[key] = len(lists) + 1
                for recipient in recipients:
                    agent_to_wire(recipient, event.recipients.add())
            event.recipients_id = list_id
            owner.outbox.put(envelope)

    def _ack(self, worker: _Worker, op_id: int, failure: pb.Failure | None = None) -> None:
        worker.outbox.put(pb.Envelope(ack=pb.Ack(op_id=op_id, failure=failure)))

    def _on_declare_type(self, worker: _Worker, declare: pb.DeclareType) -> None:
        try:
            agent_from_wire(pb.AgentRef(type=declare.agent_type, key="x"))
        except WireValidationError as e:
            self._ack(worker, declare.op_id, pb.Failure(kind=Kind.INVALID, message=str(e)))
            return
        if self._directory.add_type(worker, declare.agent_type):
            logger.info("%s serves agent type %r", worker, declare.agent_type)
        self._ack(worker, declare.op_id)

    def _on_add_route(self, worker: _Worker, route: pb.AddRoute) -> None:
        try:
            self._directory.add_route(worker, route_from_wire(route))
        except ValueError as e:  # WireValidationError included
            self._ack(worker, route.op_id, pb.Failure(kind=Kind.INVALID, type_name=type(e).__name__, message=str(e)))
            return
        self._ack(worker, route.op_id)

    def _on_remove_route(self, worker: _Worker, route: pb.RemoveRoute) -> None:
        try:
            self._directory.remove_route(worker, route.subscription_id)
        except LookupError as e:
            self._ack(worker, route.op_id, pb.Failure(kind=Kind.INVALID, type_name="LookupError", message=str(e)))
            return
        self._ack(worker, route.op_id)

    def _on_claim(self, worker: _Worker, claim: pb.Claim) -> None:
        ack = pb.Ack(op_id=claim.op_id)
        refused: list[str] = []
        for ref in claim.agents:
            try:
                agent_id = agent_from_wire(ref)
            except WireValidationError as e:
                refused.append(str(e))
                continue
            if agent_id.type not in worker.types:
                self._directory.add_type(worker, agent_id.type)
            other = self._directory.claim(worker, agent_id)
            if other is not None:
                refused.append(f"{agent_id} is already active on {other}")
                agent_to_wire(agent_id, ack.refused.add())
        if refused:
            logger.warning("%s claimed agents that it cannot hold: %s", worker, "; ".join(refused[:5]))
            ack.failure.CopyFrom(pb.Failure(kind=Kind.INVALID, message="; ".join(refused[:20])))
        worker.outbox.put(pb.Envelope(ack=ack))


def _usable_direct_address(advertised: str, peer: str) -> str:
    """The worker's direct address if other workers can use it.

    A worker that advertises a loopback address but reached the host from another machine
    is not reachable at that address by workers elsewhere: give no direct path then.
    """
    if not advertised or len(advertised) > 256 or ":" not in advertised:
        return ""
    advertised_host = advertised.rsplit(":", 1)[0].strip("[]")
    loopback = advertised_host in ("127.0.0.1", "localhost", "::1")
    peer_is_loopback = peer.startswith(("ipv4:127.", "ipv6:[::1]", "unix:"))
    if loopback and not peer_is_loopback:
        return ""
    return advertised


class _Misbehaving(Exception):
    """A worker broke the protocol; its stream is closed."""


def _short(e: BaseException) -> str:
    if isinstance(e, grpc.aio.AioRpcError):
        return f"{e.code().name}: {e.details()}"
    return f"{type(e).__name__}: {e}"
