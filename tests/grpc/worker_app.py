"""A worker process for the tests: ``python worker_app.py ADDRESS ROLE[,ROLE...] [--token T]``.

Prints READY once connected and registered, then serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from actorgen_core import TypeSubscription
from actorgen_core.application import GrpcWorkerAgentRuntime, SqliteStateStore
from tests.grpc.agents import Bouncer, Echo, Subscriber, add_serializers


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("roles")
    parser.add_argument("--token")
    parser.add_argument("--state-db", help="a SQLite state store file shared with other workers")
    args = parser.parse_args()
    store = SqliteStateStore(args.state_db) if args.state_db else None
    runtime = GrpcWorkerAgentRuntime(
        args.address, token=args.token, worker_name=f"test-{os.getpid()}", state_store=store
    )
    add_serializers(runtime)
    await runtime.start()
    for role in args.roles.split(","):
        if role == "echo":
            await Echo.register(runtime, "echo", Echo, skip_class_subscriptions=True)
        elif role == "sub":
            await Subscriber.register(runtime, "sub", Subscriber, skip_class_subscriptions=True)
            await runtime.add_subscription(TypeSubscription("fan", "sub"))
        elif role == "bouncer":
            await Bouncer.register(runtime, "bouncer", Bouncer, skip_class_subscriptions=True)
        else:
            raise SystemExit(f"unknown role {role}")
    print("READY", flush=True)
    await runtime.stop_when_signal()


def _exit_when_orphaned() -> None:
    # A test that crashed must not leave workers behind: exit when the parent is gone.
    parent = os.getppid()

    async def watch() -> None:
        while os.getppid() == parent:
            await asyncio.sleep(0.5)
        os._exit(3)

    asyncio.get_running_loop().create_task(watch())


async def run() -> None:
    _exit_when_orphaned()
    await main()


if __name__ == "__main__":
    asyncio.run(run())
