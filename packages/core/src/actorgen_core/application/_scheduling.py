"""Timers and reminders: messages an agent asks to receive later, once or periodically.

A **timer** belongs to one activation: it lives in memory, and it is cancelled when that
activation is deactivated or the runtime closes. A **reminder** belongs to the agent: it
is stored in the runtime's state store (with its message, serialized through the
registered serializers, never pickled), survives deactivation and restarts, and when it
is due it delivers its message, activating the agent if it is not live.

Both deliver their message like a published event addressed to the agent alone: it waits
its turn in the agent's mailbox (ticks never interleave with a running turn), there is no
reply, and a handler's exception is logged. ``ctx.topic_id`` is
``TopicId("actorgen.timer", <agent key>)`` or ``TopicId("actorgen.reminder", <name>)``,
``ctx.sender`` is None. Ticks are delivered only while the runtime runs: a timer tick due
while it is stopped is skipped; a reminder due while it is stopped (or the process is
down) fires as soon as it runs again, once, however many periods were missed.

Reminders are delivered at least once: a one-shot reminder is deleted from the store after
its message was handed to the agent, so a crash in between delivers it again after the
restart.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import math
import time
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from ..base import AgentId, CancellationToken, TopicId
from ..base._constants import ROOT_LOGGER_NAME
from ..base._serialization import JSON_DATA_CONTENT_TYPE

if TYPE_CHECKING:
    from ._single_threaded_agent_runtime import SingleThreadedAgentRuntime

logger = logging.getLogger(ROOT_LOGGER_NAME)

TIMER_TOPIC = "actorgen.timer"
REMINDER_TOPIC = "actorgen.reminder"


class Reminder(NamedTuple):
    """A stored reminder. ``due`` is wall-clock time (seconds since the epoch); ``payload``
    is the message serialized as ``data_content_type`` (JSON text, or base64 for binary)."""

    agent_id: AgentId
    name: str
    due: float
    period: float | None
    type_name: str
    data_content_type: str
    payload: str


@runtime_checkable
class ReminderStore(Protocol):
    """What a state store needs to keep reminders (both stores here have it)."""

    async def put_reminder(self, reminder: Reminder) -> None: ...

    async def delete_reminder(self, agent_id: AgentId, name: str, due: float | None = None) -> None: ...

    async def load_reminders(self) -> list[Reminder]: ...


class Timer:
    """A scheduled message to an agent; ``cancel()`` stops it (the handle
    ``BaseAgent.schedule`` returns)."""

    __slots__ = ("_handle", "_scheduler", "agent_id", "message", "period")

    def __init__(self, scheduler: Scheduler, agent_id: AgentId, message: Any, period: float | None) -> None:
        self._scheduler = scheduler
        self._handle: asyncio.TimerHandle | None = None
        self.agent_id = agent_id
        self.message = message
        self.period = period

    @property
    def cancelled(self) -> bool:
        return self._handle is None

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self._scheduler._forget(self)


def wall_time(loop: asyncio.AbstractEventLoop) -> float:
    """Seconds since the epoch, as the loop sees them (a VirtualClockLoop has its own)."""
    virtual = getattr(loop, "wall_time", None)
    return float(virtual()) if virtual is not None else time.time()


def _check_delay(delay: float, period: float | None) -> None:
    if not (delay >= 0 and math.isfinite(delay)):
        raise ValueError(f"delay must be a finite number of seconds >= 0, got {delay!r}")
    if period is not None and not (period > 0 and math.isfinite(period)):
        raise ValueError(f"period must be a positive finite number of seconds, got {period!r}")


class Scheduler:
    """The timers and reminders of one runtime."""

    def __init__(self, runtime: SingleThreadedAgentRuntime) -> None:
        self._runtime = runtime
        self.timers: dict[AgentId, set[Timer]] = {}
        self._armed: dict[tuple[AgentId, str], tuple[Reminder, asyncio.TimerHandle]] = {}

    # ------------------------------------------------------------------ timers

    def schedule(self, agent_id: AgentId, message: Any, delay: float, period: float | None) -> Timer:
        _check_delay(delay, period)
        if agent_id.type not in self._runtime._factories:
            raise LookupError(f"Agent type {agent_id.type!r} is not registered with this runtime")
        timer = Timer(self, agent_id, message, period)
        loop = self._runtime._get_loop()
        timer._handle = loop.call_at(loop.time() + delay, self._tick, timer)
        self.timers.setdefault(agent_id, set()).add(timer)
        return timer

    def _tick(self, timer: Timer) -> None:
        loop = self._runtime._get_loop()
        if timer.period is None:
            timer._handle = None
            self._forget(timer)
        else:
            timer._handle = loop.call_at(loop.time() + timer.period, self._tick, timer)
        self._deliver(timer.agent_id, timer.message, TopicId(TIMER_TOPIC, timer.agent_id.key))

    def _forget(self, timer: Timer) -> None:
        timers = self.timers.get(timer.agent_id)
        if timers is not None:
            timers.discard(timer)
            if not timers:
                del self.timers[timer.agent_id]

    def cancel_timers(self, agent_id: AgentId) -> None:
        """The activation of ``agent_id`` ends: so do its timers."""
        for timer in list(self.timers.get(agent_id, ())):
            timer.cancel()

    def _deliver(self, agent_id: AgentId, message: Any, topic_id: TopicId) -> None:
        runtime = self._runtime
        if not runtime._running:
            logger.debug("Skipped a scheduled %s for %s: the runtime is not running", type(message).__name__, agent_id)
            return
        runtime._fan_out(message, topic_id, [agent_id], None, CancellationToken(), runtime._new_message_id())

    # ------------------------------------------------------------------ reminders

    def _store(self) -> ReminderStore:
        store = self._runtime._lifecycle.store
        if not isinstance(store, ReminderStore):
            raise RuntimeError(
                "Reminders are stored in the runtime's state store: create the runtime with "
                "state_store=SqliteStateStore(...) (or another store that keeps reminders)"
            )
        return store

    async def set_reminder(
        self, agent_id: AgentId, name: str, message: Any, delay: float, period: float | None
    ) -> None:
        _check_delay(delay, period)
        if not isinstance(name, str) or not name or len(name) > 512:
            raise ValueError(f"A reminder name is a non-empty string of at most 512 characters, got {name!r}")
        if agent_id.type not in self._runtime._factories or self._runtime._factories[agent_id.type].factory is None:
            raise LookupError(f"Reminders need an agent type registered with a factory; {agent_id.type!r} is not")
        store = self._store()
        registry = self._runtime._serialization_registry
        type_name = registry.type_name(message)
        content_types = registry.content_types_for(type_name)
        if not content_types:
            raise ValueError(
                f"No serializer is registered for {type(message).__name__}: a reminder's message is stored, "
                "so its type must be one the agent handles (RoutedAgent.register registers them)"
            )
        content_type = JSON_DATA_CONTENT_TYPE if JSON_DATA_CONTENT_TYPE in content_types else content_types[0]
        data = registry.serialize(message, type_name=type_name, data_content_type=content_type)
        payload = data.decode("utf-8") if content_type == JSON_DATA_CONTENT_TYPE else base64.b64encode(data).decode()
        loop = self._runtime._get_loop()
        reminder = Reminder(agent_id, name, wall_time(loop) + delay, period, type_name, content_type, payload)
        await store.put_reminder(reminder)
        self._arm(reminder)

    async def cancel_reminder(self, agent_id: AgentId, name: str) -> None:
        armed = self._armed.pop((agent_id, name), None)
        if armed is not None:
            armed[1].cancel()
        await self._store().delete_reminder(agent_id, name)

    def _arm(self, reminder: Reminder) -> None:
        key = (reminder.agent_id, reminder.name)
        previous = self._armed.pop(key, None)
        if previous is not None:
            previous[1].cancel()
        loop = self._runtime._get_loop()
        delay = max(0.0, reminder.due - wall_time(loop))
        self._armed[key] = (reminder, loop.call_at(loop.time() + delay, self._fire, reminder))

    def _fire(self, reminder: Reminder) -> None:
        key = (reminder.agent_id, reminder.name)
        armed = self._armed.get(key)
        if armed is None or armed[0] is not reminder:
            return
        del self._armed[key]
        runtime = self._runtime
        if not runtime._running:
            return  # still stored: start() arms it again
        try:
            data = reminder.payload.encode("utf-8")
            if reminder.data_content_type != JSON_DATA_CONTENT_TYPE:
                data = base64.b64decode(data)
            message = runtime._serialization_registry.deserialize(
                data, type_name=reminder.type_name, data_content_type=reminder.data_content_type
            )
        except Exception:
            logger.exception("Reminder %r of %s: its stored message cannot be read", reminder.name, reminder.agent_id)
            return
        self._deliver(reminder.agent_id, message, TopicId(REMINDER_TOPIC, reminder.name))
        store = self._store()
        if reminder.period is None:
            coro = store.delete_reminder(reminder.agent_id, reminder.name, reminder.due)
        else:
            now = wall_time(runtime._get_loop())
            due = reminder.due + reminder.period
            if due <= now:  # periods missed while down: fire once, then keep the rhythm
                due += math.ceil((now - due) / reminder.period) * reminder.period
            following = reminder._replace(due=due)
            self._arm(following)
            coro = store.put_reminder(following)
        runtime._lifecycle._start(_logged(coro, f"Could not update reminder {reminder.name!r} of {reminder.agent_id}"))

    async def load(self) -> None:
        """Arm every stored reminder (at start())."""
        store = self._runtime._lifecycle.store
        if not isinstance(store, ReminderStore):
            return
        try:
            reminders = await store.load_reminders()
        except Exception:
            logger.exception("Could not load the stored reminders")
            return
        for reminder in reminders:
            if reminder.agent_id.type in self._runtime._factories:
                self._arm(reminder)
            else:
                logger.warning(
                    "Reminder %r of %s not armed: agent type %r is not registered",
                    reminder.name,
                    reminder.agent_id,
                    reminder.agent_id.type,
                )

    def close(self) -> None:
        for timers in list(self.timers.values()):
            for timer in list(timers):
                timer.cancel()
        for _, handle in self._armed.values():
            handle.cancel()
        self._armed.clear()


async def _logged(coro: Any, what: str) -> None:
    try:
        await coro
    except Exception:
        logger.exception(what)
