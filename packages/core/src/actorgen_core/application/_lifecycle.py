"""Virtual-actor lifecycle: activation hooks, idle deactivation, a live cap, durable state.

An agent of a type registered with a factory always *exists* logically; what the runtime
holds is an activation of it, made on its first message and (when the type opts in)
dropped again when it has been idle for ``idle_timeout`` seconds, or when its type holds
more than ``max_live`` activations (least recently used first). With a state store, an
activation's state is loaded before its first message and written after every turn that
changed it, so the next activation (in this process or after a restart) continues where
the last one stopped. docs/lifecycle.md is the user-facing contract.

Cost when nobody opts in: the runtime checks ``activation.life is not None`` once per
turn; no timers exist, nothing is recorded per message. Per type that opts in:

* every activation has a ``Life`` (when it was last used, how many interleaved handlers
  run, the stored version and the state last written), and sits in its type's ``live``
  table, ordered least recently used first;
* one timer per type sweeps that table from the front: everything idle for longer than
  ``idle_timeout`` is deactivated; the sweep stops at the first agent used since, so it
  costs what it deactivates.

Deactivation happens only between turns: an agent is deactivated only when nothing holds
it (``busy`` is false: no turn, no reentrant request, no message in its mailbox, no
creation or state write under way) and no interleaved handler runs. While its
``on_deactivate`` and last write run it is marked busy, so messages that arrive meanwhile
wait in its mailbox; they are handed to a fresh activation afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from contextvars import copy_context
from typing import TYPE_CHECKING, Any

from ..base import AgentId, BaseAgent
from ..base._constants import ROOT_LOGGER_NAME
from ._delivery import Activation, Envelope, set_error
from ._eager import start_task
from ._scheduling import ReminderStore, Scheduler
from ._state_store import StateStore, StateVersionConflict, encode_state, verify_state

if TYPE_CHECKING:
    from ._single_threaded_agent_runtime import SingleThreadedAgentRuntime

logger = logging.getLogger(ROOT_LOGGER_NAME)

_COMPACT_FROM = 4096
"""Live activations a type must have reached before its tables are worth compacting."""

_EVICT_SCAN = 16
"""Least recently used agents looked at when a type is over its cap: busy ones are
skipped, so a cap can be exceeded for a while when all of them are in a turn."""


class TypePolicy:
    """What one agent type opted in to, and its live activations (least recently used first)."""

    __slots__ = ("idle_timeout", "live", "max_live", "peak", "quantum", "store", "timer", "type")

    def __init__(self, type: str, idle_timeout: float | None, max_live: int | None, store: StateStore | None) -> None:
        self.type = type
        self.idle_timeout = idle_timeout
        self.max_live = max_live
        self.store = store
        self.live: OrderedDict[AgentId, Activation] = OrderedDict()
        self.timer: asyncio.TimerHandle | None = None
        self.peak = 0  # the most live activations since the tables were last compacted
        # Sweeps are at least this far apart: a crowd of agents idle since slightly
        # different times is collected in a few sweeps, not one timer per agent.
        self.quantum = 0.0 if idle_timeout is None else min(1.0, idle_timeout / 16)


class Life:
    """The lifecycle bookkeeping of one activation of a type that opted in."""

    __slots__ = ("beside", "doomed", "gone", "last_used", "persisting", "policy", "saved", "stale", "version")

    def __init__(self, policy: TypePolicy, now: float) -> None:
        self.policy = policy
        self.last_used = now
        self.beside = 0  # interleaved handlers running now
        self.persisting = False  # the runtime writes its state to policy.store
        self.version = 0  # the stored version this activation loaded or last wrote
        self.saved: str | None = None  # the JSON text of that version
        self.stale = False  # a write lost a version race: newer state exists elsewhere
        self.doomed = False  # deactivation was asked for: as soon as it is idle
        self.gone: asyncio.Future[None] | None = None  # resolved when it has been dropped


_HOOKS: dict[tuple[type, str], Callable[[Any], Coroutine[Any, Any, None]] | None] = {}


def _hook(cls: type, name: str) -> Callable[[Any], Coroutine[Any, Any, None]] | None:
    """The class's ``on_activate``/``on_deactivate``, or None when it is BaseAgent's no-op
    (so agents that don't use them cost nothing: no coroutine, no task)."""
    key = (cls, name)
    try:
        return _HOOKS[key]
    except KeyError:
        pass
    method = getattr(cls, name, None)
    found = None if method is None or method is getattr(BaseAgent, name) else method
    _HOOKS[key] = found
    return found


_ACTIVATES: dict[type, bool] = {}
"""Per agent class: whether it has an ``on_activate`` of its own (read on every creation)."""


def _persists(cls: type) -> bool:
    """Whether agents of ``cls`` have state of their own (they override ``save_state``);
    BaseAgent's default only warns and returns nothing."""
    return getattr(cls, "save_state", None) is not BaseAgent.save_state


class Lifecycle:
    """The lifecycle of a runtime's agents (see the module docstring)."""

    def __init__(
        self,
        runtime: SingleThreadedAgentRuntime,
        *,
        state_store: StateStore | None,
        idle_timeout: float | None,
        max_live: int | None,
    ) -> None:
        _check_policy(idle_timeout, max_live)
        self._runtime = runtime
        self.store = state_store
        self.idle_timeout = idle_timeout
        self.max_live = max_live
        self.policies: dict[str, TypePolicy] = {}
        self.deactivating: dict[AgentId, asyncio.Task[None]] = {}
        self._work: set[asyncio.Task[None]] = set()  # state writes and deactivations under way
        self.scheduler = Scheduler(runtime)
        self._on_request: dict[str, TypePolicy] = {}  # for activations of other types asked to go

    # ------------------------------------------------------------------ registration

    def configure(
        self, type: str, *, idle_timeout: float | None, max_live: int | None, persistent: bool | None
    ) -> None:
        """Record what agent type ``type`` opted in to (None: the runtime's default)."""
        _check_policy(idle_timeout, max_live)
        if idle_timeout is None:
            idle_timeout = self.idle_timeout
        if idle_timeout == math.inf:
            idle_timeout = None
        if max_live is None:
            max_live = self.max_live
        store = self.store if persistent is not False else None
        if persistent and store is None:
            raise ValueError(f"persistent=True for agent type {type!r}, but the runtime has no state_store")
        if idle_timeout is None and max_live is None and store is None:
            return
        self.policies[type] = TypePolicy(type, idle_timeout, max_live, store)

    # ------------------------------------------------------------------ activation

    def needs_activation(self, agent: Any, agent_type: str) -> bool:
        """Whether making ``agent`` live needs an asynchronous step (its ``on_activate``,
        or loading its stored state)."""
        cls = type(agent)
        hooked = _ACTIVATES.get(cls)
        if hooked is None:
            hooked = _ACTIVATES[cls] = _hook(cls, "on_activate") is not None
        if hooked:
            return True
        if not self.policies:
            return False
        policy = self.policies.get(agent_type)
        return policy is not None and policy.store is not None and _persists(cls)

    async def activate(self, activation: Activation, agent: Any) -> None:
        """Load ``agent``'s stored state (if the type persists), then run its
        ``on_activate``. Raises what either raises; the caller then drops the activation."""
        cls = type(agent)
        life = activation.life
        if life is not None and life.policy.store is not None and _persists(cls):
            stored = await life.policy.store.get(activation.agent_id)
            if stored is not None:
                await agent.load_state(stored.state)
                life.version = stored.version
            life.saved = encode_state(activation.agent_id, await agent.save_state())
            life.persisting = True
        hook = _hook(cls, "on_activate")
        if hook is not None:
            await hook(agent)

    async def activate_instance(self, agent: Any) -> None:
        """A registered instance is activated once, when it is registered."""
        hook = _hook(type(agent), "on_activate")
        if hook is not None:
            await hook(agent)

    def attach(self, activation: Activation) -> None:
        """A new activation exists (made, or being made): track it if its type opted in."""
        if not self.policies:
            return
        policy = self.policies.get(activation.agent_id.type)
        if policy is None:
            return
        loop = self._runtime._get_loop()
        activation.life = Life(policy, loop.time())
        policy.live[activation.agent_id] = activation
        if len(policy.live) > policy.peak:
            policy.peak = len(policy.live)
        if policy.max_live is not None and len(policy.live) > policy.max_live:
            self._evict(policy, activation)
        self._arm(policy)

    def detach(self, activation: Activation) -> None:
        """Its creation failed: forget it."""
        life = activation.life
        if life is not None:
            live = life.policy.live
            if live.get(activation.agent_id) is activation:
                del live[activation.agent_id]

    # ------------------------------------------------------------------ turns

    def turn_ended(self, activation: Activation) -> None:
        """Nothing holds the agent any more (called by the runtime instead of ``_release``
        for agents that have a Life): note the use, write its state if it changed, then
        release it. The write holds the agent like a turn, so the next message sees the
        state written and writes never overtake each other."""
        runtime = self._runtime
        life = activation.life
        assert life is not None
        life.last_used = runtime._get_loop().time()
        live = life.policy.live
        if activation.agent_id in live:
            live.move_to_end(activation.agent_id)
        if not life.persisting:
            runtime._release(activation)
            self._due(activation)
            return
        activation.holders = 1
        runtime._outstanding += 1  # stop_when_idle() waits for the write
        self._start(self._write_after_turn(activation))

    async def _write_after_turn(self, activation: Activation) -> None:
        runtime = self._runtime
        life = activation.life
        assert life is not None
        try:
            await self._write(activation)
        except StateVersionConflict as e:
            logger.error(
                "The state of %s was changed elsewhere; this activation is stale and is dropped "
                "(its next message loads the newer state): %s",
                activation.agent_id,
                e,
            )
            life.persisting = False
            life.stale = True
        except Exception:
            logger.exception("Could not write the state of %s", activation.agent_id)
        finally:
            activation.holders = 0
            runtime._release(activation)
            runtime._finish_one()
        self._due(activation)

    def _due(self, activation: Activation, retry: bool = True) -> None:
        """Deactivate now if that was asked for (or the activation is stale) and it is idle.
        A turn that ends while the mailbox drains (the drain loop marks the agent idle only
        after it returns) looks once more, after the drain."""
        life = activation.life
        assert life is not None
        if not (life.stale or life.doomed) or activation.agent_id in self.deactivating:
            return
        if self.idle(activation):
            if self._runtime._directory.activations.get(activation.agent_id) is activation:
                self.deactivate(activation, save=not life.stale)
        elif retry:
            self._runtime._get_loop().call_soon(self._due, activation, False)

    async def _write(self, activation: Activation) -> None:
        """Write the agent's state if it differs from what was last written."""
        life = activation.life
        assert life is not None and life.policy.store is not None
        state = await activation.agent.save_state()
        text = encode_state(activation.agent_id, state, verify=False)
        if text == life.saved:
            return
        verify_state(activation.agent_id, state, text)
        life.version = await life.policy.store.put(activation.agent_id, text, life.version)
        life.saved = text

    def beside_started(self, activation: Activation) -> None:
        assert activation.life is not None
        activation.life.beside += 1

    def beside_ended(self, activation: Activation) -> None:
        life = activation.life
        assert life is not None
        life.beside -= 1
        life.last_used = self._runtime._get_loop().time()
        if life.doomed:
            self._due(activation)

    # ------------------------------------------------------------------ deactivation on request

    def deactivate_when_idle(self, agent_id: AgentId) -> asyncio.Future[None] | None:
        """Drop ``agent_id``'s activation as soon as it is idle (now, if it is). Returns a
        future resolved once it is gone, or None if it is not live."""
        runtime = self._runtime
        entry = runtime._factories.get(agent_id.type)
        if entry is not None and entry.factory is None:
            raise ValueError(f"{agent_id} is a registered instance: the runtime cannot make it again, so it stays")
        activation = runtime._directory.activations.get(agent_id) or runtime._directory.creating.get(agent_id)
        if activation is None:
            return None
        life = activation.life
        if life is None:  # a type that did not opt in: this activation gets a Life of its own
            policy = self._on_request.get(agent_id.type)
            if policy is None:
                policy = self._on_request[agent_id.type] = TypePolicy(agent_id.type, None, None, None)
            life = activation.life = Life(policy, runtime._get_loop().time())
            policy.live[agent_id] = activation
        life.doomed = True
        if life.gone is None:
            life.gone = runtime._get_loop().create_future()
        gone = life.gone
        created = activation.created
        if created is not None:  # being made: decide once it is (after its queue started)
            created.add_done_callback(
                lambda made: None if made.cancelled() or made.exception() else self._due(activation)
            )
        elif agent_id not in self.deactivating:
            self._due(activation)
        return gone

    # ------------------------------------------------------------------ deactivation

    def idle(self, activation: Activation) -> bool:
        life = activation.life
        return not activation.busy and (life is None or life.beside == 0)

    def deactivate(self, activation: Activation, *, save: bool = True) -> None:
        """Drop an idle activation: ``on_deactivate``, a last write, then it is gone.
        Messages that arrive meanwhile wait and go to the next activation."""
        assert self.idle(activation)
        activation.busy = True
        activation.interleaves = None  # interleaved messages wait too, for the next activation
        if self.scheduler.timers:
            self.scheduler.cancel_timers(activation.agent_id)
        life = activation.life
        if life is not None:
            life.policy.live.pop(activation.agent_id, None)
        task = self._start(self._deactivate(activation, save))
        if task is not None:
            self.deactivating[activation.agent_id] = task

    async def _deactivate(self, activation: Activation, save: bool) -> None:
        agent = activation.agent
        try:
            hook = _hook(type(agent), "on_deactivate")
            if hook is not None:
                try:
                    await hook(agent)
                except Exception:
                    logger.exception("on_deactivate of %s raised; the agent is dropped anyway", activation.agent_id)
            life = activation.life
            if save and life is not None and life.persisting:
                try:
                    await self._write(activation)
                except Exception:
                    logger.exception("Could not write the state of %s when deactivating it", activation.agent_id)
        finally:
            self._drop(activation)

    def _drop(self, activation: Activation) -> None:
        runtime = self._runtime
        agent_id = activation.agent_id
        activations = runtime._directory.activations
        if activations.get(agent_id) is activation:
            del activations[agent_id]
        self.deactivating.pop(agent_id, None)
        life = activation.life
        if life is not None and life.gone is not None and not life.gone.done():
            life.gone.set_result(None)
        queue = activation.queue
        activation.queue = None
        waiting_before_start = [
            item for item in runtime._pending if isinstance(item, Envelope) and item.activation is activation
        ]
        if not queue and not waiting_before_start:
            return
        # Messages arrived while it was being deactivated: they go to a fresh activation.
        try:
            successor = runtime._directory.activation(agent_id)
        except Exception as e:
            if queue:
                activation.queue = queue
                runtime._fail_mailbox(activation, e)
            for item in waiting_before_start:
                runtime._pending.remove(item)
                item.started = True
                if item.reply is not None:
                    set_error(item.reply, e)
                runtime._finish_one()
            return
        for item in waiting_before_start:
            item.activation = successor
        if queue:
            for envelope in queue:
                envelope.activation = successor
            if successor.queue:
                successor.queue.extend(queue)
            else:
                successor.queue = queue
            if not successor.busy:
                successor.busy = True
                runtime._get_loop().call_soon(runtime._drain, successor)

    async def wait_deactivated(self, agent_id: AgentId) -> None:
        """Return once ``agent_id`` is not being deactivated."""
        while (task := self.deactivating.get(agent_id)) is not None:
            await asyncio.wait([task])

    # ------------------------------------------------------------------ idle sweep and cap

    def _arm(self, policy: TypePolicy) -> None:
        if policy.timer is not None or policy.idle_timeout is None or not policy.live:
            return
        loop = self._runtime._get_loop()
        oldest = next(iter(policy.live.values()))
        assert oldest.life is not None
        when = max(oldest.life.last_used + policy.idle_timeout, loop.time() + policy.quantum)
        policy.timer = loop.call_at(when, self._sweep, policy)

    def _sweep(self, policy: TypePolicy) -> None:
        policy.timer = None
        timeout = policy.idle_timeout
        assert timeout is not None
        loop = self._runtime._get_loop()
        now = loop.time()
        if not self._runtime._running:
            # Stopped (or not yet started): nothing is deactivated; look again later.
            if policy.live:
                policy.timer = loop.call_at(now + timeout, self._sweep, policy)
            return
        cutoff = now - timeout
        live = policy.live
        while live:
            activation = next(iter(live.values()))
            life = activation.life
            assert life is not None
            if life.last_used > cutoff:
                break
            if self.idle(activation):
                self.deactivate(activation)
            else:  # in use right now: it counts as used now
                life.last_used = now
                live.move_to_end(activation.agent_id)
        if policy.peak >= _COMPACT_FROM and len(live) * 4 < policy.peak:
            self._compact(policy)
        self._arm(policy)

    def _compact(self, policy: TypePolicy) -> None:
        """A dict keeps the table of the largest size it ever had, however many entries
        leave it: after a crowd of agents was deactivated, rebuild the tables at their
        present size so that their memory goes back too. Costs what is still live, and
        happens only after the live count fell below a quarter of its peak."""
        live = policy.live
        kept = list(live.items())
        live.clear()
        live.update(kept)
        activations = self._runtime._directory.activations
        everything = list(activations.items())
        activations.clear()  # the runtime holds this very dict: rebuild it in place
        activations.update(everything)
        policy.peak = len(live)

    def _evict(self, policy: TypePolicy, newcomer: Activation) -> None:
        if not self._runtime._running:
            return
        excess = len(policy.live) - (policy.max_live or 0)
        for activation in list(itertools.islice(policy.live.values(), _EVICT_SCAN)):
            if excess <= 0:
                return
            if activation is not newcomer and self.idle(activation):
                self.deactivate(activation)
                excess -= 1

    # ------------------------------------------------------------------ start and shutdown

    def started(self) -> None:
        """The runtime started: arm the stored reminders."""
        if isinstance(self.store, ReminderStore):
            self._start(self.scheduler.load())

    async def close(self) -> None:
        """The runtime is closing: let writes and deactivations under way finish, then run
        every live agent's ``on_deactivate`` and write its state (errors are logged)."""
        self.scheduler.close()
        for policy in self.policies.values():
            if policy.timer is not None:
                policy.timer.cancel()
                policy.timer = None
        while self._work:
            await asyncio.wait(list(self._work))
        for agent_id, activation in list(self._runtime._directory.activations.items()):
            life = activation.life
            if life is not None and life.gone is not None and not life.gone.done():
                life.gone.set_result(None)  # closing: it goes now, with everyone
            agent = activation.agent
            hook = _hook(type(agent), "on_deactivate")
            if hook is not None:
                try:
                    await hook(agent)
                except Exception:
                    logger.exception("on_deactivate of %s raised while the runtime closed", agent_id)
            life = activation.life
            if life is not None and life.persisting:
                try:
                    await self._write(activation)
                except Exception:
                    logger.exception("Could not write the state of %s while the runtime closed", agent_id)

    # ------------------------------------------------------------------ tasks

    def _start(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
        """Run ``coro`` as its own task, its first step now (most writes that find nothing
        changed, and deactivations without hooks or store, finish there, task-free)."""
        task, _ = start_task(self._runtime._get_loop(), coro, copy_context(), None)
        if task is not None:
            self._work.add(task)
            task.add_done_callback(self._work.discard)
        return task


def _check_policy(idle_timeout: float | None, max_live: int | None) -> None:
    if idle_timeout is not None and not idle_timeout > 0:
        raise ValueError(f"idle_timeout must be a positive number of seconds (or math.inf), got {idle_timeout!r}")
    if max_live is not None and (not isinstance(max_live, int) or max_live < 1):
        raise ValueError(f"max_live must be a positive integer, got {max_live!r}")
