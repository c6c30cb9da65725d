"""``actorgen host``: run a GrpcWorkerAgentRuntimeHost until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._host import GrpcWorkerAgentRuntimeHost
from ._wire import DEFAULT_MAX_MESSAGE_BYTES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="actorgen", description="actorgen command line")
    commands = parser.add_subparsers(dest="command", required=True)
    host = commands.add_parser("host", help="run the host of a distributed (gRPC) runtime")
    host.add_argument("--address", default="127.0.0.1:50051", help="host:port to listen on (port 0: any free port)")
    host.add_argument("--tls-cert", type=Path, help="PEM certificate chain of the host (enables TLS)")
    host.add_argument("--tls-key", type=Path, help="PEM private key of the host")
    host.add_argument("--tls-client-ca", type=Path, help="PEM CA bundle that signs worker certificates (mutual TLS)")
    host.add_argument(
        "--token-env",
        metavar="NAME",
        help="name of an environment variable holding the token workers must present (the token is never logged)",
    )
    host.add_argument("--max-message-bytes", type=int, default=DEFAULT_MAX_MESSAGE_BYTES)
    host.add_argument(
        "--liveness-timeout", type=float, default=5.0, help="seconds of silence after which a worker is cut off"
    )
    host.add_argument("--grace", type=float, default=5.0, help="seconds open streams get to finish on shutdown")
    host.add_argument("--log-level", default="INFO")
    return parser


async def _run_host(args: argparse.Namespace) -> int:
    token = None
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            print(f"actorgen host: environment variable {args.token_env} is not set or empty", file=sys.stderr)
            return 2
    host = GrpcWorkerAgentRuntimeHost(
        args.address,
        token=token,
        tls_cert=args.tls_cert.read_bytes() if args.tls_cert else None,
        tls_key=args.tls_key.read_bytes() if args.tls_key else None,
        tls_client_ca=args.tls_client_ca.read_bytes() if args.tls_client_ca else None,
        max_message_bytes=args.max_message_bytes,
        liveness_timeout=args.liveness_timeout,
    )
    host.start()
    address = args.address.rsplit(":", 1)[0]
    print(f"actorgen host listening on {address}:{host.port}", flush=True)
    await host.stop_when_signal(grace=args.grace)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_run_host(args))
    except (ValueError, OSError, RuntimeError) as e:
        print(f"actorgen host: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
