"""The application layer: runtimes that own agents and deliver their messages.

``GrpcWorkerAgentRuntime`` and ``GrpcWorkerAgentRuntimeHost`` are loaded on first use, so
this package imports without grpcio; using them without it raises an ImportError that
names the ``actorgen-core[grpc]`` extra.
"""

from typing import TYPE_CHECKING, Any

from ..base._public_module import set_public_module as _set_public_module
from ._scheduling import Reminder, ReminderStore, Timer
from ._single_threaded_agent_runtime import DEFAULT_TIMEOUT, SingleThreadedAgentRuntime
from ._sqlite_state_store import SqliteStateStore
from ._state_store import InMemoryStateStore, StateStore, StateVersionConflict, StoredState
from ._subscription_manager import SubscriptionManager, SubscriptionNotFoundError
from ._virtual_clock import VirtualClockLoop, run_with_virtual_clock

if TYPE_CHECKING:
    from .grpc import GrpcWorkerAgentRuntime, GrpcWorkerAgentRuntimeHost

__all__ = [
    "DEFAULT_TIMEOUT",
    "GrpcWorkerAgentRuntime",
    "GrpcWorkerAgentRuntimeHost",
    "InMemoryStateStore",
    "Reminder",
    "ReminderStore",
    "SingleThreadedAgentRuntime",
    "SqliteStateStore",
    "StateStore",
    "StateVersionConflict",
    "StoredState",
    "SubscriptionManager",
    "SubscriptionNotFoundError",
    "Timer",
    "VirtualClockLoop",
    "run_with_virtual_clock",
]

_LAZY = {"GrpcWorkerAgentRuntime", "GrpcWorkerAgentRuntimeHost"}
_set_public_module(__name__, {**globals(), "__all__": [n for n in __all__ if n not in _LAZY]})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import grpc

        return getattr(grpc, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
