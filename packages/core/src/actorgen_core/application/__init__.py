"""The application layer: runtimes that own agents and deliver their messages."""

from ._single_threaded_agent_runtime import DEFAULT_TIMEOUT, SingleThreadedAgentRuntime
from ._subscription_manager import SubscriptionManager, SubscriptionNotFoundError

__all__ = [
    "DEFAULT_TIMEOUT",
    "SingleThreadedAgentRuntime",
    "SubscriptionManager",
    "SubscriptionNotFoundError",
]
