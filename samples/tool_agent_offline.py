"""A tool-using assistant that runs offline: a scripted model asks a ToolAgent to call a tool.

Run it with:  pip install uv && uv run python samples/tool_agent_offline.py

The model is a ReplayChatCompletionClient, so no network and no API key are needed. To use
a real OpenAI-compatible server instead, swap in
``actorgen_ext.models.openai.OpenAIChatCompletionClient(model=..., base_url=...)``.
"""

import asyncio
from dataclasses import dataclass
from typing import Annotated

from actorgen_core import (
    AgentId,
    FunctionCall,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    message_handler,
)
from actorgen_core.models import ChatCompletionClient, CreateResult, RequestUsage, SystemMessage, UserMessage
from actorgen_core.tool_agent import ToolAgent, tool_agent_caller_loop
from actorgen_core.tools import FunctionTool, Tool
from actorgen_ext.models.replay import ReplayChatCompletionClient


async def get_weather(city: Annotated[str, "the city to look up"]) -> str:
    return f"It is 21 degrees and sunny in {city}."


@dataclass
class Question:
    text: str


@dataclass
class Answer:
    text: str


class Assistant(RoutedAgent):
    def __init__(self, model_client: ChatCompletionClient, tool_agent: AgentId, tools: list[Tool]) -> None:
        super().__init__("answers questions, using tools when it needs to")
        self._model_client = model_client
        self._tool_agent = tool_agent
        self._tools = tools

    @message_handler
    async def on_question(self, message: Question, ctx: MessageContext) -> Answer:
        messages = await tool_agent_caller_loop(
            self,
            tool_agent_id=self._tool_agent,
            model_client=self._model_client,
            input_messages=[
                SystemMessage(content="You are a helpful assistant."),
                UserMessage(content=message.text, source="user"),
            ],
            tool_schema=self._tools,
            cancellation_token=ctx.cancellation_token,
        )
        for step in messages[:-1]:
            print(f"  [{type(step).__name__}] {step.content}")
        final = messages[-1].content
        assert isinstance(final, str)
        return Answer(final)


def scripted_model() -> ReplayChatCompletionClient:
    """What a real model would answer: first a tool call, then text that uses its result."""
    usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
    return ReplayChatCompletionClient(
        [
            CreateResult(
                finish_reason="function_calls",
                content=[FunctionCall(id="call-1", name="get_weather", arguments='{"city": "Lisbon"}')],
                usage=usage,
                cached=False,
            ),
            "The weather in Lisbon: 21 degrees and sunny.",
        ]
    )


async def main() -> None:
    tools: list[Tool] = [FunctionTool(get_weather, description="Current weather for a city")]
    runtime = SingleThreadedAgentRuntime()
    await ToolAgent.register(runtime, "tools", lambda: ToolAgent("runs tools", tools))
    model = scripted_model()
    await Assistant.register(runtime, "assistant", lambda: Assistant(model, AgentId("tools", "default"), tools))
    runtime.start()
    question = "What is the weather in Lisbon?"
    print(f"user: {question}")
    answer = await runtime.send_message(Question(question), AgentId("assistant", "default"))
    print(f"assistant: {answer.text}")
    await runtime.stop_when_idle()


if __name__ == "__main__":
    asyncio.run(main())
