"""The application layer: runtimes that own agents and deliver their messages.

``GrpcWorkerAgentRuntime`` and ``GrpcWorkerAgentRuntimeHost`` are loaded on first use, so
this package imports without grpcio; using them without it raises an ImportError that
names the ``actorgen-core[grpc]`` extra.
"""

from typing import TYPE_CHECKING, Any

from ._single_threaded_agent_runtime import DEFAULT_TIMEOUT, SingleThreadedAgentRuntime
from ._subscription_manager import SubscriptionManager, SubscriptionNotFoundError

if TYPE_CHECKING:
    from .grpc import GrpcWorkerAgentRuntime, GrpcWorkerAgentRuntimeHost

__all__ = [
    "DEFAULT_TIMEOUT",
    "GrpcWorkerAgentRuntime",
    "GrpcWorkerAgentRuntimeHost",
    "SingleThreadedAgentRuntime",
    "SubscriptionManager",
    "SubscriptionNotFoundError",
]

_LAZY = {"GrpcWorkerAgentRuntime", "GrpcWorkerAgentRuntimeHost"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import grpc

        return getattr(grpc, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
