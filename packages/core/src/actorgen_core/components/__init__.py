"""The agent kinds built on the base layer: RoutedAgent and its handler decorators, ClosureAgent, AgentProxy.

The name follows autogen_core, whose ``components`` package held these (and, once, the AI
components, which now live in their own public packages: ``models``, ``tools``, ...).
"""

from ._agent_proxy import AgentProxy
from ._closure_agent import ClosureAgent, ClosureContext
from ._routed_agent import MessageHandler, RoutedAgent, event, message_handler, rpc

__all__ = [
    "AgentProxy",
    "ClosureAgent",
    "ClosureContext",
    "MessageHandler",
    "RoutedAgent",
    "event",
    "message_handler",
    "rpc",
]
