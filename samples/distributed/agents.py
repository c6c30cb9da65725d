"""Agents and messages of the distributed samples, imported by every process."""

from dataclasses import dataclass

from actorgen_core import AgentId, MessageContext, RoutedAgent, message_handler


@dataclass
class MyMessageType:
    content: str


@dataclass
class Announcement:
    text: str


class MyWorkerAgent(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("MyWorkerAgent")

    @message_handler
    async def handle_my_message(self, message: MyMessageType, ctx: MessageContext) -> MyMessageType:
        print(f"{self.id.type} received message: {message.content} (from {ctx.sender})", flush=True)
        return MyMessageType(content="OK, Got it!")


class MyManagerAgent(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("MyManagerAgent")
        self.worker_agent_id = AgentId("my_worker_agent", "worker")

    @message_handler
    async def handle_my_message(self, message: MyMessageType, ctx: MessageContext) -> MyMessageType:
        sender = ctx.sender or "the application"
        print(f"{self.id.type} received message: {message.content} (from {sender})", flush=True)
        # my_worker_agent lives in another process: the same call as in-process.
        response: MyMessageType = await self.send_message(message, self.worker_agent_id)
        print(f"{self.id.type} received response: {response.content} (from {self.worker_agent_id})", flush=True)
        return response


class Listener(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("Listener")

    @message_handler
    async def on_announcement(self, message: Announcement, ctx: MessageContext) -> None:
        print(f"{self.id} heard: {message.text}", flush=True)
