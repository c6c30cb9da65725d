"""The component layer: agent kinds built on the base layer, and the AI components
(models, tools, model contexts, memory, code execution) that agents use."""

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
