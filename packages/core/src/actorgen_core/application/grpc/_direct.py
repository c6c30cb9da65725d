"""The direct path: once the host has said where an AgentId lives, a worker sends further
requests for it straight to that worker, over one plain TCP (or TLS) connection per peer.

That halves the traversals of an RPC (2 instead of 4), and it skips grpcio's per-message
machinery, which costs 3-4 times what the same bytes cost over an asyncio socket (measured
in docs/protocol.md). The connection carries the same ``Frame`` messages as the gRPC
streams, each behind a 4-byte big-endian length, after a short preamble:

    client -> server   PREAMBLE, then a Frame whose first envelope is a Hello (peer, token)
    server -> client   a Frame holding a Welcome, once the Hello was accepted
    then               requests, cancels and heartbeats one way; responses and heartbeats back

The host stays the only authority on placement: a worker answers a direct request only for
an agent it holds while connected to the host, and otherwise says NOT_HERE, upon which the
caller asks the host. A connection that closes before its Welcome never delivered
anything, so the requests written to it go through the host instead.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import ssl
import struct
import tempfile
from collections.abc import Callable, Sized
from typing import TYPE_CHECKING

from ...base._constants import ROOT_LOGGER_NAME
from ._proto import actorgen_wire_pb2 as pb
from ._wire import HELLO_TIMEOUT, PROTOCOL_VERSION, Link, batch_bytes, frame_bytes, keep_alive

if TYPE_CHECKING:
    from ._worker import GrpcWorkerAgentRuntime

logger = logging.getLogger(f"{ROOT_LOGGER_NAME}.grpc.worker")

PREAMBLE = b"actorgen-direct\x00"
"""First bytes of every direct connection: anything else is cut off before it is parsed."""

_LENGTH = struct.Struct(">I")
_HELLO_MAX_BYTES = 64 * 1024  # largest frame accepted before the Hello
_MAX_WAITING = 128  # connections at once that have not said Hello yet; more are cut off
_NOT_CONNECTED = "not connected"
_EAGER_WRITE = 16
"""Envelopes after which a burst is written without waiting for the end of the turn: with
50 concurrent RPCs, 16 gave 1.8-2x the throughput of one write per turn (both processes
work at once instead of taking turns) for about the same CPU per RPC."""


class FrameSink(asyncio.Protocol):
    """One direct connection, either end: length-prefixed Frames in and out.

    Outgoing envelopes are serialized at ``put`` and written in batches: the replies to one
    incoming frame together when it has been handled, a lone envelope at once when nothing
    else runs in this turn of the event loop, otherwise at the end of the turn or every 16
    envelopes, whichever comes first (docs/protocol.md, "The direct connection").
    Incoming bytes are checked as they arrive: a length over the limit, a frame that does
    not parse, or (on the server) a missing preamble closes the connection before anything
    is delivered.
    """

    def __init__(
        self,
        max_bytes: int,
        on_frame: Callable[[pb.Frame], bool],
        *,
        expect_preamble: bool,
        greeting: bytes = b"",
    ) -> None:
        self._loop = asyncio.get_running_loop()
        # What the loop will run next (asyncio's own loops); empty: nothing else runs this turn.
        self._ready: Sized | None = getattr(self._loop, "_ready", None)
        self._max_bytes = max_bytes
        self.max_frame_bytes = max_bytes  # of incoming frames (the server lowers it until the Hello)
        self.refusal: str | None = None  # set: the connection is cut off as soon as it is made
        self._batch_bytes = batch_bytes(max_bytes)
        self._on_frame = on_frame
        self._buffer = bytearray()
        self._need_preamble = expect_preamble
        self._greeting = greeting
        self._pending: list[bytes] = []
        self._flush_scheduled = False
        self._corked = False  # reading a frame: replies are written together at its end
        self._transport: asyncio.Transport | None = None
        self._closed = False
        self.link = Link(self._loop.time())
        self.lost: asyncio.Future[str] = self._loop.create_future()

    # ---- writing

    def put(self, envelope: pb.Envelope) -> None:
        self.put_serialized(envelope.SerializeToString())

    def put_serialized(self, data: bytes) -> None:
        if self._closed:
            return
        pending = self._pending
        pending.append(data)
        if len(pending) >= _EAGER_WRITE:
            # A burst: send the first part now, so the other side can start on it while
            # this side produces the rest (both processes busy instead of taking turns).
            self._flush()
            return
        if not self._flush_scheduled:
            if self._corked:
                return  # written when the frame being read is done
            ready = self._ready
            if ready is not None and not ready and self._transport is not None:
                # Nothing else runs in this turn of the loop: nothing could join the batch,
                # so write now instead of spending another turn (and a poll) on it.
                self._flush()
                return
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        transport = self._transport
        if transport is None or transport.is_closing() or not self._pending:
            return
        pending, self._pending = self._pending, []
        limit = self._batch_bytes
        parts: list[bytes] = []
        batch: list[bytes] = []
        size = 0
        for data in pending:
            if batch and size + len(data) > limit:
                body = frame_bytes(batch)
                parts += (_LENGTH.pack(len(body)), body)
                batch, size = [], 0
            batch.append(data)
            size += len(data)
        body = frame_bytes(batch)
        parts += (_LENGTH.pack(len(body)), body)
        transport.write(b"".join(parts))

    def close(self) -> None:
        """Write what is queued, then close."""
        if self._closed:
            return
        self._closed = True
        self._flush()
        if self._transport is not None:
            self._transport.close()
        elif not self.lost.done():
            self.lost.set_result("closed before it connected")

    def abort(self) -> None:
        """Close at once, dropping what is queued (the other side stopped answering)."""
        self._closed = True
        self._pending.clear()
        if self._transport is not None:
            self._transport.abort()
        elif not self.lost.done():
            self.lost.set_result("closed before it connected")

    # ---- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if self.refusal is not None:
            self._refuse(self.refusal)
            return
        if self._closed:
            transport.close()
            return
        if self._greeting:
            transport.write(self._greeting)  # ahead of anything queued
        elif self._pending and not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._pending.clear()
        if not self.lost.done():
            self.lost.set_result(f"{type(exc).__name__}: {exc}" if exc is not None else "the connection closed")

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        self.link.last_heard = self._loop.time()
        if self._need_preamble:
            if len(buffer) < len(PREAMBLE):
                if not PREAMBLE.startswith(bytes(buffer)):
                    self._refuse("it does not speak the direct protocol")
                return
            if buffer[: len(PREAMBLE)] != PREAMBLE:
                self._refuse("it does not speak the direct protocol")
                return
            del buffer[: len(PREAMBLE)]
            self._need_preamble = False
        view = memoryview(buffer)
        position = 0
        end = len(buffer)
        try:
            while end - position >= 4:
                (size,) = _LENGTH.unpack_from(view, position)
                if size > self.max_frame_bytes:
                    self._refuse(f"a frame of {size} bytes is over the limit of {self.max_frame_bytes}")
                    return
                if end - position - 4 < size:
                    break
                start = position + 4
                position = start + size
                try:
                    frame = pb.Frame.FromString(bytes(view[start:position]))
                except Exception:
                    self._refuse("it sent a frame that does not parse")
                    return
                self._corked = True
                try:
                    if not self._on_frame(frame) or self._closed:
                        return
                finally:
                    self._corked = False
        finally:
            view.release()
            if self._pending and not self._flush_scheduled:
                self._flush()
        if position:
            del buffer[:position]

    def _refuse(self, why: str) -> None:
        peer = self._transport.get_extra_info("peername") if self._transport is not None else None
        logger.warning("Cut off the direct connection with %s: %s", _address_text(peer), why)
        self._buffer = bytearray()  # (not clear(): data_received may hold a view of the old one)
        self.close()
        if self._transport is not None:
            self._transport.abort()


def _address_text(peer: object) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``) as a host and a port number; ValueError if it is not one."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"not a host:port address: {address!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


class Peer:
    """This worker's connection to another worker's direct server (the caller side)."""

    __slots__ = ("address", "outbox", "pending", "task", "welcomed")

    def __init__(self, address: str, outbox: FrameSink) -> None:
        self.address = address
        self.outbox = outbox
        self.pending: set[int] = set()  # request ids sent on this connection and not answered yet
        self.task: asyncio.Task[None] | None = None
        self.welcomed = False  # the other side accepted our Hello: what we write may be delivered


def new_peer(worker: GrpcWorkerAgentRuntime, address: str) -> Peer:
    """A peer whose connection starts now; requests may be queued on it at once."""
    peer: Peer

    def on_frame(frame: pb.Frame) -> bool:
        for envelope in frame.envelopes:
            kind = envelope.WhichOneof("body")
            if kind == "response":
                if not peer.welcomed:
                    return _violation(sink, "a response before its Welcome")
                worker._on_response(envelope.response)
            elif kind == "welcome":
                peer.welcomed = True
            elif kind != "heartbeat":
                return _violation(sink, f"a {kind or 'empty'} envelope")
        return True

    hello = pb.Hello(
        protocol_version=PROTOCOL_VERSION, worker_name=worker._worker_name, peer=True, token=worker._token or ""
    )
    body = frame_bytes([pb.Envelope(hello=hello).SerializeToString()])
    sink = FrameSink(
        worker._max_bytes, on_frame, expect_preamble=False, greeting=PREAMBLE + _LENGTH.pack(len(body)) + body
    )
    peer = Peer(address, sink)
    peer.task = asyncio.get_running_loop().create_task(_run_peer(worker, peer))
    return peer


def _violation(sink: FrameSink, what: str) -> bool:
    sink._refuse(f"it sent {what}")
    return False


async def _run_peer(worker: GrpcWorkerAgentRuntime, peer: Peer) -> None:
    """Connect, say Hello, and tell the worker when the connection ends (and why)."""
    loop = asyncio.get_running_loop()
    sink = peer.outbox
    reason = _NOT_CONNECTED
    watcher: asyncio.Task[None] | None = None
    try:
        host, port = split_address(peer.address)
        async with asyncio.timeout(worker._connect_timeout):
            await loop.create_connection(lambda: sink, host, port, ssl=worker._direct_client_ssl)
        watcher = loop.create_task(keep_alive(sink, sink.link, worker._liveness_timeout, sink.abort))
        reason = await sink.lost
    except asyncio.CancelledError:
        reason = "this worker stopped"
        raise
    except (OSError, TimeoutError, ValueError) as e:  # ssl.SSLError is an OSError
        reason = f"could not connect: {type(e).__name__}: {e}"
    except Exception as e:
        reason = f"{type(e).__name__}: {e}"
        logger.exception("Error in the direct connection to %s", peer.address)
    finally:
        if watcher is not None:
            watcher.cancel()
            if sink.link.last_heard + worker._liveness_timeout < loop.time():
                reason = "the worker went silent"
        sink.close()
        worker._peer_lost(peer, reason)


def _write_private(directory: str, name: str, data: bytes) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def direct_ssl_contexts(root: bytes, cert: bytes, key: bytes) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Server and client contexts for the direct path under mutual TLS: each side must show a
    certificate signed by the cluster's CA (``root``). Host names are not checked: a worker's
    certificate names the worker, not the address it happens to listen on."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    with tempfile.TemporaryDirectory(prefix="actorgen-tls-") as directory:
        cert_path = _write_private(directory, "cert.pem", cert)
        key_path = _write_private(directory, "key.pem", key)
        for context in (server, client):
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(cert_path, key_path)
            context.load_verify_locations(cadata=root.decode("ascii"))
            context.verify_mode = ssl.CERT_REQUIRED
    return server, client


class DirectServer:
    """The worker's own server for requests from other workers (the callee side)."""

    def __init__(
        self, worker: GrpcWorkerAgentRuntime, listen: str, token: str | None, ssl_context: ssl.SSLContext | None
    ) -> None:
        self._worker = worker
        self._listen = listen
        self._token = token
        self._ssl = ssl_context
        self._server: asyncio.Server | None = None
        self._connections: set[FrameSink] = set()
        self._waiting = 0  # connections whose Hello has not been accepted yet

    async def start(self) -> int:
        host, port = split_address(self._listen)
        loop = asyncio.get_running_loop()
        try:
            server = await loop.create_server(self._accept, host, port, ssl=self._ssl, reuse_address=True)
        except OSError as e:
            raise RuntimeError(f"Could not listen on {self._listen} for direct requests: {e}") from e
        self._server = server
        bound: int = server.sockets[0].getsockname()[1]
        return bound

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for sink in list(self._connections):
            sink.close()
        if server is not None:
            try:
                async with asyncio.timeout(0.5):
                    await server.wait_closed()
            except TimeoutError:
                pass

    def _accept(self) -> FrameSink:
        if self._waiting >= _MAX_WAITING:
            refused = FrameSink(self._worker._max_bytes, lambda frame: False, expect_preamble=True)
            refused.refusal = f"{_MAX_WAITING} other connections are still to say Hello"
            return refused
        return _Incoming(self).sink


class _Incoming:
    """One connection to the direct server: its Hello, then requests and cancels."""

    __slots__ = ("accepted", "hello_timer", "server", "sink", "watcher")

    def __init__(self, server: DirectServer) -> None:
        worker = server._worker
        self.server = server
        self.accepted = False
        self.watcher: asyncio.Task[None] | None = None
        self.sink = sink = FrameSink(worker._max_bytes, self.on_frame, expect_preamble=True)
        # Nobody gets to make this worker hold megabytes, or many connections, before
        # saying who they are.
        sink.max_frame_bytes = min(_HELLO_MAX_BYTES, worker._max_bytes)
        server._waiting += 1
        server._connections.add(sink)  # every connection, accepted or not, ends with the server
        self.hello_timer = asyncio.get_running_loop().call_later(HELLO_TIMEOUT, _hello_missing, sink)
        sink.lost.add_done_callback(self.ended)

    def on_frame(self, frame: pb.Frame) -> bool:
        worker = self.server._worker
        sink = self.sink
        for envelope in frame.envelopes:
            kind = envelope.WhichOneof("body")
            if kind == "request" and self.accepted:
                worker._on_request(envelope.request, sink, direct=True)
            elif kind == "cancel" and self.accepted:
                worker._on_cancel(envelope.cancel.request_id, sink)
            elif kind == "hello" and not self.accepted:
                if not self.welcome(envelope.hello):
                    return False
            elif kind != "heartbeat" or not self.accepted:
                return _violation(
                    sink, f"a {kind or 'empty'} envelope" + ("" if self.accepted else " before its Hello")
                )
        return True

    def welcome(self, hello: pb.Hello) -> bool:
        server = self.server
        worker = server._worker
        sink = self.sink
        token = server._token
        if token is not None and not hmac.compare_digest(hello.token.encode(), token.encode()):
            return _violation(sink, "a missing or wrong token")
        if not hello.peer or hello.protocol_version != PROTOCOL_VERSION:
            return _violation(sink, f"a Hello that is not from a worker of protocol {PROTOCOL_VERSION}")
        self.accepted = True
        server._waiting -= 1
        self.hello_timer.cancel()
        sink.max_frame_bytes = worker._max_bytes
        sink.put(pb.Envelope(welcome=pb.Welcome(protocol_version=PROTOCOL_VERSION)))
        self.watcher = asyncio.get_running_loop().create_task(
            keep_alive(sink, sink.link, worker._liveness_timeout, sink.abort)
        )
        return True

    def ended(self, _: asyncio.Future[str]) -> None:
        server = self.server
        self.hello_timer.cancel()
        server._connections.discard(self.sink)
        if not self.accepted:
            server._waiting -= 1
            return
        if self.watcher is not None:
            self.watcher.cancel()
        server._worker._route_closed(self.sink)  # the caller is gone: stop what it asked for


def _hello_missing(sink: FrameSink) -> None:
    sink._refuse(f"no Hello within {HELLO_TIMEOUT:g} s")
