"""RemoteAgent: an agent that lives in another process, as a peer of the agents of this one."""

from __future__ import annotations

from typing import Any

from actorgen_core import AgentId, AgentRuntime

from ._actor import actor_type
from ._conversable_agent import ConversableAgent
from ._messages import Message


class RemoteAgent(ConversableAgent):
    """The agent named ``name`` whose actor another process registered on the same
    (distributed) runtime, e.g. with ``await agent.a_register_actor(runtime)``.

    Chat with it (``initiate_chat``, ``send``) or put it in a GroupChat like any agent: every
    exchange with it is a runtime message to its actor. Its histories, counters and reply
    functions live in its own process; here it is only a name and a description. A chat with
    a remote agent summarises from this side's history and reports only this side's cost.
    Agents of other processes that speak to an agent of this one appear as RemoteAgents too.
    """

    _is_remote = True

    def __init__(self, name: str, description: str = "", *, runtime: AgentRuntime | None = None) -> None:
        super().__init__(
            name,
            system_message="",
            llm_config=False,
            human_input_mode="NEVER",
            description=description,
            runtime=runtime,
        )

    async def _actor_on(self, runtime: AgentRuntime) -> AgentId:
        return AgentId(actor_type(self._uid), "default")

    async def a_generate_reply(
        self, messages: list[Message] | None = None, sender: Any = None, **kwargs: Any
    ) -> str | Message | None:
        raise RuntimeError(f"{self.name} lives in another process: it replies through its actor, not here")
