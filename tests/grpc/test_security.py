"""Token, TLS and mutual TLS, size limits, and peers that send garbage or invalid ids."""

from __future__ import annotations

import subprocess
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from actorgen_core import AgentId
from actorgen_core.application.grpc import PROTOCOL_VERSION
from actorgen_core.application.grpc._proto import actorgen_wire_pb2 as pb
from actorgen_core.application.grpc._wire import CONNECT_METHOD

from .agents import Ping
from .conftest import Cluster


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


async def test_direct_server_of_a_worker_checks_like_the_host(cluster: Cluster) -> None:
    _, address = cluster.start_host(None, "--token-env", "TEST_HOST_TOKEN", env={"TEST_HOST_TOKEN": "tok"})
    worker = cluster.worker(address, token="tok")
    await worker.start()
    from .agents import Echo

    await Echo.register(worker, "echo", Echo, skip_class_subscriptions=True)
    direct = worker._direct_address
    assert direct.startswith("127.0.0.1:")

    peer_hello = pb.Frame(
        envelopes=[pb.Envelope(hello=pb.Hello(protocol_version=PROTOCOL_VERSION, peer=True))]
    ).SerializeToString()
    _, code = await _raw_stream(direct, [peer_hello])  # no token
    assert code == grpc.StatusCode.UNAUTHENTICATED

    async def with_token(frames: list[bytes]) -> tuple[list[pb.Frame], grpc.StatusCode | None]:
        async with grpc.aio.insecure_channel(direct) as channel:
            call = channel.stream_stream(
                CONNECT_METHOD, request_serializer=lambda b: b, response_deserializer=pb.Frame.FromString
            )

            async def requests():  # type: ignore[no-untyped-def]
                for frame in frames:
                    yield frame
                await __import__("asyncio").sleep(1.0)

            received: list[pb.Frame] = []
            try:
                async for frame in call(requests(), timeout=3, metadata=(("authorization", "Bearer tok"),)):
                    received.append(frame)
            except grpc.aio.AioRpcError as e:
                return received, e.code()
            return received, None

    # A direct request for an agent this worker does not hold is answered NOT_HERE (the
    # caller then asks the host); an invalid id gets INVALID; nothing is created.
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
    received, _ = await with_token([peer_hello, requests.SerializeToString()])
    failures = {
        e.response.request_id: e.response.failure for f in received for e in f.envelopes if e.HasField("response")
    }
    assert failures[1].kind == pb.Failure.NOT_HERE
    assert failures[2].kind == pb.Failure.INVALID
    assert AgentId("echo", "never-placed") not in worker._instantiated_agents
    _, code = await with_token([_hello()])  # a host-style Hello is not a peer
    assert code == grpc.StatusCode.FAILED_PRECONDITION
