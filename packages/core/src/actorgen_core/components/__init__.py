"""The agent kinds built on the base layer: RoutedAgent and its handler decorators, ClosureAgent, AgentProxy.

The name follows autogen_core, whose ``components`` package held these (and, once, the AI
components, which now live in their own public packages: ``models``, ``tools``, ...).
"""

from ..base._public_module import set_public_module
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

# The names also exported at the top level report `actorgen_core` (set there, later).
set_public_module(__name__, globals())
