"""One worker process of the distributed samples.

    python samples/distributed/worker.py manager --host 127.0.0.1:50051
    python samples/distributed/worker.py worker  --host 127.0.0.1:50051

The "manager" worker holds my_manager_agent and listener_a, the "worker" worker holds
my_worker_agent and listener_b. Both listeners subscribe to the topic type "news".
Runs until SIGTERM or Ctrl-C.
"""

import argparse
import asyncio

from agents import Listener, MyManagerAgent, MyWorkerAgent

from actorgen_core import TypeSubscription
from actorgen_core.application import GrpcWorkerAgentRuntime


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["manager", "worker"])
    parser.add_argument("--host", default="127.0.0.1:50051")
    args = parser.parse_args()

    runtime = GrpcWorkerAgentRuntime(host_address=args.host, worker_name=args.role)
    await runtime.start()
    if args.role == "manager":
        await MyManagerAgent.register(runtime, "my_manager_agent", MyManagerAgent, skip_class_subscriptions=True)
        listener = "listener_a"
    else:
        await MyWorkerAgent.register(runtime, "my_worker_agent", MyWorkerAgent, skip_class_subscriptions=True)
        listener = "listener_b"
    await Listener.register(runtime, listener, Listener, skip_class_subscriptions=True)
    await runtime.add_subscription(TypeSubscription(topic_type="news", agent_type=listener))
    print("READY", flush=True)
    await runtime.stop_when_signal()


if __name__ == "__main__":
    asyncio.run(main())
