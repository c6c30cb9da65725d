"""Token, TLS and mutual TLS, size limits, and peers that send garbage or invalid ids."""

from __future__ import annotations

import asyncio
import ssl
import struct
import subprocess
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from actorgen_core import AgentId
from actorgen_core.application import GrpcWorkerAgentRuntime
from actorgen_core.application.grpc import PROTOCOL_VERSION, _direct, _worker
from actorgen_core.application.grpc._direct import PREAMBLE
from actorgen_core.application.grpc._proto import actorgen_wire_pb2 as pb
from actorgen_core.application.grpc._wire import CONNECT_METHOD

from .agents import Ping
from .conftest import Cluster, free_port


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_certs(directory: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
             "-keyout", "ca.key", "-out", "ca.pem", cwd=directory)  # fmt: skip
    for name, san in (("server", "IP:127.0.0.1,DNS:localhost"), ("client", "DNS:worker")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=directory)  # fmt: skip
        (directory / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-out", f"{name}.pem", "-extfile", f"{name}.ext", cwd=directory)  # fmt: skip
    return directory


async def test_token_is_required_when_set(cluster: Cluster) -> None:
    host, address = cluster.start_host(None, "--token-env", "TEST_HOST_TOKEN", env={"TEST_HOST_TOKEN": "s3cret-t0ken"})
    good = cluster.worker(address, token="s3cret-t0ken")
    await good.start()
    bad = cluster.worker(address, token="wrong")
    with pytest.raises(ConnectionRefusedError, match="UNAUTHENTICATED"):
        await bad.start()
    anonymous = cluster.worker(address)
    with pytest.raises(ConnectionRefusedError):
        await anonymous.start()
    cluster.start_worker(address, "echo", "--token", "s3cret-t0ken")
    assert (await good.send_message(Ping(1), AgentId("echo", "k"), timeout=10)).n == 1
    # The second request takes the direct path to the echo worker: the token is checked there too.
    assert (await good.send_message(Ping(2), AgentId("echo", "k"), timeout=10)).n == 2
    log = host.stderr()
    assert "Refused a connection" in log and "wrong token" in log
    assert "s3cret-t0ken" not in log and "wrong" not in log.replace("wrong token", "")


async def test_tls_and_mutual_tls(cluster: Cluster, tmp_path: Path) -> None:
    certs = make_certs(tmp_path)
    ca = (certs / "ca.pem").read_bytes()
    _, address = cluster.start_host(
        None, "--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key")
    )
    tls_worker = cluster.worker(address, tls_root_certificates=ca)
    await tls_worker.start()
    plaintext = cluster.worker(address, connect_timeout=1.5)
    with pytest.raises(Exception, match="Could not connect"):
        await plaintext.start()

    _, mtls_address = cluster.start_host(
        None,
        "--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key"),
        "--tls-client-ca", str(certs / "ca.pem"),
    )  # fmt: skip
    no_client_cert = cluster.worker(mtls_address, tls_root_certificates=ca, connect_timeout=1.5)
    with pytest.raises(Exception, match="Could not connect"):
        await no_client_cert.start()
    mtls_worker = cluster.worker(
        mtls_address,
        tls_root_certificates=ca,
        tls_cert=(certs / "client.pem").read_bytes(),
        tls_key=(certs / "client.key").read_bytes(),
    )
    await mtls_worker.start()
    from .agents import Echo

    await Echo.register(mtls_worker, "echo", Echo, skip_class_subscriptions=True)
    assert (await mtls_worker.send_message(Ping(7), AgentId("echo", "k"), timeout=10)).n == 7


async def _raw_stream(address: str, frames: list[bytes]) -> tuple[list[pb.Frame], grpc.StatusCode | None]:
    """Speak to the host without the worker runtime: send these raw frames, read what comes back."""
    async with grpc.aio.insecure_channel(address) as channel:
        call = channel.stream_stream(
            CONNECT_METHOD, request_serializer=lambda b: b, response_deserializer=pb.Frame.FromString
        )

        async def requests():  # type: ignore[no-untyped-def]
            for frame in frames:
                yield frame
            await __import__("asyncio").sleep(1.0)

        received: list[pb.Frame] = []
        try:
            async for frame in call(requests(), timeout=5):
                received.append(frame)
        except grpc.aio.AioRpcError as e:
            return received, e.code()
        return received, None


def _hello() -> bytes:
    return pb.Frame(envelopes=[pb.Envelope(hello=pb.Hello(protocol_version=PROTOCOL_VERSION))]).SerializeToString()


async def test_misbehaving_peers_are_cut_off_and_others_keep_working(cluster: Cluster) -> None:
    host, address = cluster.start_host(None, "--max-message-bytes", "65536")
    cluster.start_worker(address, "echo")
    worker = cluster.worker(address)
    await worker.start()

    _, code = await _raw_stream(address, [b"\xff\x00garbage\x13\x37"])
    assert code is not None and code != grpc.StatusCode.OK
    _, code = await _raw_stream(address, [_hello(), b"\x0a" + b"\xff" * 70_000])
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    _, code = await _raw_stream(address, [pb.Frame().SerializeToString()])
    assert code == grpc.StatusCode.INVALID_ARGUMENT  # no Hello
    old = pb.Frame(envelopes=[pb.Envelope(hello=pb.Hello(protocol_version=PROTOCOL_VERSION + 1))])
    _, code = await _raw_stream(address, [old.SerializeToString()])
    assert code == grpc.StatusCode.FAILED_PRECONDITION

    # Ids from the wire follow the in-process rules: an invalid type or key is refused with a
    # clear failure (the stream stays up); a worker that speaks for the host is cut off.
    bad_ids = pb.Frame(
        envelopes=[
            pb.Envelope(request=pb.Request(request_id=1, target=pb.AgentRef(type="bad type!", key="k"))),
            pb.Envelope(request=pb.Request(request_id=2, target=pb.AgentRef(type="echo", key="a\nb"))),
            pb.Envelope(declare_type=pb.DeclareType(op_id=3, agent_type="x/y")),
            pb.Envelope(
                add_route=pb.AddRoute(
                    op_id=4, subscription_id="s", type_route=pb.TypeRoute(topic_type="t t", agent_type="a")
                )
            ),
            pb.Envelope(welcome=pb.Welcome()),
        ]
    )
    received, code = await _raw_stream(address, [_hello(), bad_ids.SerializeToString()])
    envelopes = [e for f in received for e in f.envelopes]
    assert envelopes[0].HasField("welcome")
    failures = {e.response.request_id: e.response.failure for e in envelopes if e.HasField("response")}
    assert failures[1].kind == pb.Failure.INVALID and "Invalid agent type" in failures[1].message
    assert failures[2].kind == pb.Failure.INVALID and "control characters" in failures[2].message
    acks = {e.ack.op_id: e.ack for e in envelopes if e.HasField("ack")}
    assert acks[3].failure.kind == pb.Failure.INVALID and acks[4].failure.kind == pb.Failure.INVALID
    assert "Cut off" in host.stderr()

    # Everyone else is unaffected.
    assert (await worker.send_message(Ping(5), AgentId("echo", "k"), timeout=10)).n == 5
    async with grpc.aio.insecure_channel(address) as channel:
        status = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert status.status == health_pb2.HealthCheckResponse.SERVING


async def _raw_direct(address: str, data: bytes, wait: float = 2.0) -> tuple[list[pb.Envelope], bool]:
    """Speak to a worker's direct server without the runtime: send raw bytes, then read the
    length-prefixed frames that come back until it closes (True) or ``wait`` passes (False)."""
    host, port = address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    received = b""
    closed = False
    try:
        async with asyncio.timeout(wait):
            while chunk := await reader.read(65536):
                received += chunk
            closed = True
    except TimeoutError:
        pass
    except ConnectionResetError:
        closed = True
    writer.close()
    envelopes: list[pb.Envelope] = []
    while len(received) >= 4:
        size = struct.unpack(">I", received[:4])[0]
        envelopes += pb.Frame.FromString(received[4 : 4 + size]).envelopes
        received = received[4 + size :]
    return envelopes, closed


def _framed(*frames: pb.Frame) -> bytes:
    out = b""
    for frame in frames:
        body = frame.SerializeToString()
        out += struct.pack(">I", len(body)) + body
    return out


def _peer_hello(token: str = "", *, peer: bool = True) -> pb.Frame:
    hello = pb.Hello(protocol_version=PROTOCOL_VERSION, peer=peer, token=token)
    return pb.Frame(envelopes=[pb.Envelope(hello=hello)])


async def test_direct_server_of_a_worker_checks_like_the_host(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    _, address = cluster.start_host(None, "--token-env", "TEST_HOST_TOKEN", env={"TEST_HOST_TOKEN": "tok"})
    worker = cluster.worker(address, token="tok", max_message_bytes=65536)
    await worker.start()
    from .agents import Echo

    await Echo.register(worker, "echo", Echo, skip_class_subscriptions=True)
    direct = worker._direct_address
    assert direct.startswith("127.0.0.1:")

    # Refused, each with the connection closed and nothing answered: no token, a wrong one,
    # a host-style Hello, no preamble (e.g. a gRPC client), an oversized frame, garbage.
    for data in (
        PREAMBLE + _framed(_peer_hello()),
        PREAMBLE + _framed(_peer_hello("wrong")),
        PREAMBLE + _framed(_peer_hello("tok", peer=False)),
        _framed(_peer_hello("tok")),
        PREAMBLE + struct.pack(">I", 70_000) + b"\x0a" * 100,
        PREAMBLE + struct.pack(">I", 5) + b"\xff\xff\xff\xff\xff",
    ):
        envelopes, closed = await _raw_direct(direct, data)
        assert closed and envelopes == [], data[:40]
    async with grpc.aio.insecure_channel(direct) as channel:  # a gRPC client is cut off too
        call = channel.stream_stream(CONNECT_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with pytest.raises(grpc.aio.AioRpcError):
            await call(iter([_peer_hello("tok").SerializeToString()]), timeout=3).read()

    # Accepted: a Welcome first. A direct request for an agent this worker does not hold is
    # answered NOT_HERE (the caller then asks the host); an invalid id gets INVALID; nothing
    # is created.
    ping = pb.Payload(type_name="Ping", content_type="application/json", data=b'{"n": 1, "sleep": 0.0}')
    requests = pb.Frame(
        envelopes=[
            pb.Envelope(
                request=pb.Request(request_id=1, target=pb.AgentRef(type="echo", key="never-placed"), payload=ping)
            ),
            pb.Envelope(
                request=pb.Request(request_id=2, target=pb.AgentRef(type="echo", key="bad\x00key"), payload=ping)
            ),
        ]
    )
    envelopes, closed = await _raw_direct(direct, PREAMBLE + _framed(_peer_hello("tok"), requests), wait=1.0)
    assert not closed and envelopes[0].HasField("welcome")
    failures = {e.response.request_id: e.response.failure for e in envelopes if e.HasField("response")}
    assert failures[1].kind == pb.Failure.NOT_HERE
    assert failures[2].kind == pb.Failure.INVALID
    assert AgentId("echo", "never-placed") not in worker._instantiated_agents
    # A request before the Hello is not served.
    envelopes, closed = await _raw_direct(direct, PREAMBLE + _framed(requests))
    assert closed and envelopes == []

    # Before its Hello a client gets 64 KiB per frame, whatever the worker's own limit.
    roomy = cluster.worker(address, token="tok")  # max_message_bytes: the 4 MiB default
    await roomy.start()
    envelopes, closed = await _raw_direct(roomy._direct_address, PREAMBLE + struct.pack(">I", 100_000) + b"\x0a" * 100)
    assert closed and envelopes == []

    # Connections that never say Hello: past 128 at once, new ones are cut off at once;
    # once they go, connections are taken again.
    idle = [await asyncio.open_connection(*direct.rsplit(":", 1)) for _ in range(128)]
    envelopes, closed = await _raw_direct(direct, PREAMBLE + _framed(_peer_hello("tok")), wait=2.0)
    assert closed and envelopes == []
    for _, writer in idle:
        writer.close()
    await asyncio.sleep(0.3)
    envelopes, closed = await _raw_direct(direct, PREAMBLE + _framed(_peer_hello("tok")), wait=0.5)
    assert not closed and envelopes[0].HasField("welcome")

    assert "Fatal error" not in caplog.text and "Traceback" not in caplog.text  # refused cleanly
    assert caplog.text.count("Cut off the direct connection") >= 9

    # After all that, the worker still serves: through the host, then directly.
    caller = cluster.worker(address, token="tok")
    await caller.start()
    for n in (1, 2):
        assert (await caller.send_message(Ping(n), AgentId("echo", "k"), timeout=10)).n == n
    assert direct in caller._peers and caller._peers[direct].welcomed


async def test_an_unreachable_direct_address_falls_back_to_the_host(
    cluster: Cluster, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_worker, "_UNREACHABLE_FOR", 1.0)  # 30 s in production
    _, address = cluster.start_host()
    # This worker advertises an address nobody listens on (say, a wrong NAT mapping).
    nowhere = f"127.0.0.1:{free_port()}"
    callee = cluster.worker(address, direct_advertise=nowhere)
    await callee.start()
    from .agents import Echo

    await Echo.register(callee, "echo", Echo, skip_class_subscriptions=True)
    caller = cluster.worker(address)
    await caller.start()
    for n in range(5):  # every request arrives, the failed direct attempt included
        assert (await caller.send_message(Ping(n), AgentId("echo", "k"), timeout=10)).n == n
    assert "No direct connection to " + nowhere in caplog.text
    assert caplog.text.count("No direct connection") == 1  # not retried on every request
    assert nowhere not in caller._peers
    await asyncio.sleep(1.2)  # once the pause is over the address is tried again, and again falls back
    for n in range(5, 8):
        assert (await caller.send_message(Ping(n), AgentId("echo", "k"), timeout=10)).n == n
    assert caplog.text.count("No direct connection") == 2


async def test_a_direct_client_that_never_says_hello_is_cut_off(
    cluster: Cluster, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_direct, "HELLO_TIMEOUT", 0.5)  # 10 s in production
    _, address = cluster.start_host()
    worker = cluster.worker(address)
    await worker.start()
    started = time.monotonic()
    envelopes, closed = await _raw_direct(worker._direct_address, PREAMBLE, wait=5.0)  # then silence
    assert closed and envelopes == [] and time.monotonic() - started < 3
    assert "no Hello within 0.5 s" in caplog.text


async def test_the_direct_path_under_mutual_tls(cluster: Cluster, tmp_path: Path) -> None:
    certs = make_certs(tmp_path)
    ca = (certs / "ca.pem").read_bytes()
    _, address = cluster.start_host(
        None,
        "--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key"),
        "--tls-client-ca", str(certs / "ca.pem"),
    )  # fmt: skip
    mtls = {
        "tls_root_certificates": ca,
        "tls_cert": (certs / "client.pem").read_bytes(),
        "tls_key": (certs / "client.key").read_bytes(),
    }
    callee = cluster.worker(address, **mtls)
    await callee.start()
    from .agents import Echo

    await Echo.register(callee, "echo", Echo, skip_class_subscriptions=True)
    caller = cluster.worker(address, **mtls)
    await caller.start()
    for n in (1, 2, 3):
        assert (await caller.send_message(Ping(n), AgentId("echo", "k"), timeout=10)).n == n
    direct = callee._direct_address
    assert caller._peers[direct].welcomed  # requests 2 and 3 went straight to the callee, over TLS

    # Plaintext, or TLS without a certificate of the cluster's CA, gets nothing.
    envelopes, closed = await _raw_direct(direct, PREAMBLE + _framed(_peer_hello()))
    assert closed and envelopes == []
    host, port = direct.rsplit(":", 1)
    anonymous = ssl.create_default_context(cadata=ca.decode())
    anonymous.check_hostname = False
    writer = None
    with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
        reader, writer = await asyncio.open_connection(host, int(port), ssl=anonymous)
        writer.write(PREAMBLE + _framed(_peer_hello()))
        await reader.readexactly(1)
    if writer is not None:
        writer.close()

    # A worker with only the CA (server-side TLS to the host) has no certificate to show:
    # its requests all go through the host.
    root_only = GrpcWorkerAgentRuntime(address, tls_root_certificates=ca)
    assert root_only._direct_listen is None
