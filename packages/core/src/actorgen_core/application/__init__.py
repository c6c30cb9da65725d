"""The application layer: runtimes that own agents and deliver their messages."""

from ._scheduling import Reminder, ReminderStore, Timer
from ._single_threaded_agent_runtime import DEFAULT_TIMEOUT, SingleThreadedAgentRuntime
from ._sqlite_state_store import SqliteStateStore
from ._state_store import InMemoryStateStore, StateStore, StateVersionConflict, StoredState
from ._subscription_manager import SubscriptionManager, SubscriptionNotFoundError
from ._virtual_clock import VirtualClockLoop, run_with_virtual_clock

__all__ = [
    "DEFAULT_TIMEOUT",
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
