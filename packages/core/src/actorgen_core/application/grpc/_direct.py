"""The direct path: once the host has said where an AgentId lives, a worker sends further
requests for it straight to that worker's own small server, one stream per peer.

That halves the stream traversals of an RPC (2 instead of 4). The host stays the only
authority on placement: a worker answers a direct request only for an agent it holds while
connected to the host, and otherwise says NOT_HERE, upon which the caller asks the host.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc

from ...base._constants import ROOT_LOGGER_NAME
from ._proto import actorgen_wire_pb2 as pb
from ._wire import CONNECT_METHOD, PROTOCOL_VERSION, SERVICE_NAME, Outbox, accept_stream

if TYPE_CHECKING:
    from ._worker import GrpcWorkerAgentRuntime

logger = logging.getLogger(f"{ROOT_LOGGER_NAME}.grpc.worker")


class Link:
    """When a stream last showed a sign of life (any frame)."""

    __slots__ = ("last_heard",)

    def __init__(self, now: float) -> None:
        self.last_heard = now


async def keep_alive(outbox: Outbox, link: Link, timeout: float, on_silence: Callable[[], None]) -> None:
    """Send a heartbeat about once a second; call ``on_silence`` when the other side went quiet."""
    loop = asyncio.get_running_loop()
    envelope = pb.Envelope(heartbeat=pb.Heartbeat())
    while True:
        await asyncio.sleep(min(1.0, timeout / 3))
        if loop.time() - link.last_heard > timeout:
            on_silence()
            return
        outbox.put(envelope)


def already_serialized(frame: bytes) -> bytes:
    return frame


class Peer:
    """This worker's stream to another worker's direct server (the caller side)."""

    __slots__ = ("address", "outbox", "pending", "task")

    def __init__(self, address: str, max_bytes: int) -> None:
        self.address = address
        self.outbox = Outbox(max_bytes)
        self.pending: set[int] = set()  # request ids sent on this stream and not answered yet
        self.task: asyncio.Task[None] | None = None


async def run_peer(worker: GrpcWorkerAgentRuntime, peer: Peer) -> None:
    """Connect to ``peer``, pass its responses to the worker, and tell the worker when it breaks."""
    loop = asyncio.get_running_loop()
    channel = grpc.aio.insecure_channel(peer.address, options=worker._channel_options)
    reason = "the stream ended"
    writer = watcher = None
    try:
        call = channel.stream_stream(
            CONNECT_METHOD, request_serializer=already_serialized, response_deserializer=pb.Frame.FromString
        )(metadata=worker._call_metadata)
        hello = pb.Envelope(
            hello=pb.Hello(protocol_version=PROTOCOL_VERSION, worker_name=worker._worker_name, peer=True)
        )
        writer = loop.create_task(_write(call, peer.outbox, [hello]))
        link = Link(loop.time())
        watcher = loop.create_task(keep_alive(peer.outbox, link, worker._liveness_timeout, lambda: _cancel(call)))
        while True:
            frame = await call.read()
            if not isinstance(frame, pb.Frame):
                break
            link.last_heard = loop.time()
            for envelope in frame.envelopes:
                if envelope.HasField("response"):
                    worker._on_response(envelope.response)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        reason = "the worker went silent"
    except grpc.aio.AioRpcError as e:
        reason = f"{e.code().name}: {e.details()}"
    except Exception as e:
        reason = f"{type(e).__name__}: {e}"
        logger.exception("Error in the direct stream to %s", peer.address)
    finally:
        for task in (writer, watcher):
            if task is not None:
                task.cancel()
        worker._peer_lost(peer, reason)
        await channel.close(grace=None)


def _cancel(call: Any) -> None:
    call.cancel()


async def _write(call: Any, outbox: Outbox, first: list[pb.Envelope]) -> None:
    try:
        async for frame in outbox.frames(first=first):
            await call.write(frame)
    except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
        pass


class DirectServer:
    """The worker's own server for requests from other workers (the callee side)."""

    def __init__(self, worker: GrpcWorkerAgentRuntime, listen: str, token: str | None) -> None:
        self._worker = worker
        self._listen = listen
        self._token = token
        self._server: grpc.aio.Server | None = None
        self._streams: set[Outbox] = set()

    async def start(self) -> int:
        server = grpc.aio.server(options=self._worker._channel_options)
        handler = grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "Connect": grpc.stream_stream_rpc_method_handler(
                    self._connect, request_deserializer=pb.Frame.FromString, response_serializer=already_serialized
                )
            },
        )
        server.add_generic_rpc_handlers((handler,))
        port = server.add_insecure_port(self._listen)
        if not port:
            raise RuntimeError(f"Could not listen on {self._listen} for direct requests")
        await server.start()
        self._server = server
        return port

    async def stop(self) -> None:
        server, self._server = self._server, None
        for outbox in list(self._streams):
            outbox.close()
        if server is not None:
            await server.stop(0.5)

    async def _connect(self, _requests: object, context: grpc.aio.ServicerContext[pb.Frame, bytes]) -> None:
        peer = context.peer()
        first = await accept_stream(context, self._token, "direct connection")
        hello = first.envelopes[0].hello
        if not hello.peer or hello.protocol_version != PROTOCOL_VERSION:
            logger.warning("Refused a direct connection from %s: not a worker of protocol %d", peer, PROTOCOL_VERSION)
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"expected a worker speaking {PROTOCOL_VERSION}")
        worker = self._worker
        loop = asyncio.get_running_loop()
        outbox = Outbox(worker._max_bytes)
        link = Link(loop.time())
        self._streams.add(outbox)
        reader = loop.create_task(self._read(first, context, outbox, link))
        watcher = loop.create_task(keep_alive(outbox, link, worker._liveness_timeout, outbox.close))
        try:
            async for frame in outbox.frames():
                await context.write(frame)
        finally:
            reader.cancel()
            watcher.cancel()
            self._streams.discard(outbox)
            worker._route_closed(outbox)

    async def _read(
        self, first: pb.Frame, context: grpc.aio.ServicerContext[pb.Frame, bytes], outbox: Outbox, link: Link
    ) -> None:
        worker = self._worker
        loop = asyncio.get_running_loop()
        try:
            frames: list[pb.Frame] = [first]
            while True:
                for frame in frames:
                    for envelope in frame.envelopes:
                        kind = envelope.WhichOneof("body")
                        if kind == "request":
                            worker._on_request(envelope.request, outbox, direct=True)
                        elif kind == "cancel":
                            worker._on_cancel(envelope.cancel.request_id, outbox)
                        elif kind not in ("heartbeat", "hello"):
                            logger.warning("Cut off a direct stream from %s: it sent %s", context.peer(), kind)
                            return
                next_frame = await context.read()
                if not isinstance(next_frame, pb.Frame):
                    return
                link.last_heard = loop.time()
                frames = [next_frame]
        except asyncio.CancelledError:
            raise
        except Exception as e:
            logger.info("Direct stream from %s ended: %s", context.peer(), e)
        finally:
            outbox.close()
