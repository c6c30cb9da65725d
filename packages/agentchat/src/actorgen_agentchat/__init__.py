"""actorgen_agentchat: AutoGen v0.2's conversation API (ConversableAgent, GroupChat, ...) on actors.

Code written for ``import autogen`` (pyautogen 0.2) runs after renaming the import. Every
agent is an actor on an actorgen_core runtime; see docs/agentchat.md.
"""

from ._agent import Agent
from ._assistant_agents import AssistantAgent, UserProxyAgent
from ._chat import ChatResult, a_initiate_chats, initiate_chats
from ._conversable_agent import ConversableAgent
from ._functions import register_function
from ._groupchat import GroupChat, GroupChatManager, NoEligibleSpeaker
from ._remote import RemoteAgent

__all__ = [
    "Agent",
    "ConversableAgent",
    "AssistantAgent",
    "UserProxyAgent",
    "GroupChat",
    "GroupChatManager",
    "ChatResult",
    "initiate_chats",
    "a_initiate_chats",
    "register_function",
    "NoEligibleSpeaker",
    "RemoteAgent",
]
