"""Hello world: a manager agent forwards a message to a worker agent and prints the reply.

Run it with:  pip install uv && uv run python samples/hello_world.py
"""

import asyncio
from dataclasses import dataclass

from actorgen_core import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler


@dataclass
class MyMessageType:
    content: str


class MyWorkerAgent(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("MyWorkerAgent")

    @message_handler
    async def handle_my_message(self, message: MyMessageType, ctx: MessageContext) -> MyMessageType:
        print(f"{self.id.type} received message: {message.content} (from {ctx.sender})")
        return MyMessageType(content="OK, Got it!")


class MyManagerAgent(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("MyManagerAgent")
        self.worker_agent_id = AgentId("my_worker_agent", "worker")

    @message_handler
    async def handle_my_message(self, message: MyMessageType, ctx: MessageContext) -> None:
        print(f"{self.id.type} received message: {message.content} (from {ctx.sender or 'the application'})")
        response = await self.send_message(message, self.worker_agent_id)
        print(f"{self.id.type} received response: {response.content} (from {self.worker_agent_id})")


async def main() -> None:
    runtime = SingleThreadedAgentRuntime()
    # Factories only: the runtime creates each agent the first time it is addressed.
    await MyManagerAgent.register(runtime, "my_manager_agent", lambda: MyManagerAgent())
    await MyWorkerAgent.register(runtime, "my_worker_agent", lambda: MyWorkerAgent())
    runtime.start()
    await runtime.send_message(MyMessageType("Hello World!"), AgentId("my_manager_agent", "default"))
    await runtime.stop_when_idle()


if __name__ == "__main__":
    asyncio.run(main())
