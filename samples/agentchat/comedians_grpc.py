"""The two comedians on two processes: Cathy's actor runs in a worker process, Joe's in this one.

Run it with:  uv run python samples/agentchat/comedians_grpc.py

This script starts a gRPC host on 127.0.0.1, starts a second Python process (this same file
with ``--cathy``) whose worker hosts Cathy, joins the host as a worker hosting Joe, and lets
Joe start a two-turn chat with ``RemoteAgent("cathy")``. Every message between them crosses
the host; each process prints what its own agent receives. Needs the gRPC runtime of
actorgen_core (``actorgen-core[grpc]``).
"""

import asyncio
import socket
import subprocess
import sys
from typing import Any

from sample_models import model

from actorgen_agentchat import ConversableAgent, RemoteAgent
from actorgen_core import application

GrpcWorkerAgentRuntime: Any = getattr(application, "GrpcWorkerAgentRuntime", None)
GrpcWorkerAgentRuntimeHost: Any = getattr(application, "GrpcWorkerAgentRuntimeHost", None)


async def host_cathy(address: str) -> None:
    """The worker process: Cathy's actor lives here until the process is told to stop."""
    runtime = GrpcWorkerAgentRuntime(host_address=address, worker_name="cathy")
    await runtime.start()
    cathy = ConversableAgent(
        "cathy",
        system_message="Your name is Cathy and you are part of a comedy duo. Keep it to one line.",
        llm_config=model(["Why do actors never share state? They can't keep a secret lock.", "Deadlock: my ex."]),
        human_input_mode="NEVER",
        runtime=runtime,
    )
    await cathy.a_register_actor()
    print("READY", flush=True)
    await runtime.stop_when_signal()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main() -> None:
    address = f"127.0.0.1:{free_port()}"
    host = GrpcWorkerAgentRuntimeHost(address)
    host.start()
    worker = subprocess.Popen([sys.executable, __file__, "--cathy", address], stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        ready = await asyncio.wait_for(asyncio.to_thread(worker.stdout.readline), timeout=30)
        if "READY" not in ready:
            raise RuntimeError(f"Cathy's worker did not start: {ready!r}")
        runtime = GrpcWorkerAgentRuntime(host_address=address, worker_name="joe")
        await runtime.start()
        joe = ConversableAgent(
            "joe",
            system_message="Your name is Joe and you are part of a comedy duo. Keep it to one line.",
            llm_config=model(["I'd tell you a UDP joke, but you might not get it.", "At least ours arrive in order!"]),
            human_input_mode="NEVER",
            runtime=runtime,
        )
        result = await joe.a_initiate_chat(RemoteAgent("cathy", runtime=runtime), message="Cathy, a joke?", max_turns=2)
        print(f"turns: {len(result.chat_history) // 2}, ended because: {result.stop_reason}")
        await runtime.stop()
    finally:
        worker.terminate()
        cathy_output, _ = worker.communicate(timeout=30)
        await host.stop()
    print("--- what Cathy's process printed ---")
    print(cathy_output, end="")


if __name__ == "__main__":
    if GrpcWorkerAgentRuntime is None:
        print("This sample needs the gRPC runtime of actorgen_core (actorgen-core[grpc]).")
    elif sys.argv[1:2] == ["--cathy"]:
        asyncio.run(host_cathy(sys.argv[2]))
    else:
        asyncio.run(main())
