"""Which agent types a runtime knows, how their agents are made, and the agents that exist.

The runtime asks the directory for an agent's ``Activation`` on every delivery; the
directory makes it on first use, from the registered factory (or finds the registered
instance). Registration and whole-runtime state live here too: they are about which
agents exist, not about delivering messages.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..base import (
    Agent,
    AgentConstructionExceptionEvent,
    AgentId,
    AgentInstantiationContext,
    AgentType,
)
from ..base._constants import EVENT_LOGGER_NAME, ROOT_LOGGER_NAME
from ..base._validation import check_agent_type
from ..base.exceptions import AgentNotFoundError, RuntimeStoppedError
from ._delivery import Activation, set_error

if TYPE_CHECKING:
    from ._single_threaded_agent_runtime import SingleThreadedAgentRuntime

logger = logging.getLogger(ROOT_LOGGER_NAME)
event_logger = logging.getLogger(EVENT_LOGGER_NAME)


class FactoryEntry:
    __slots__ = ("expected_class", "factory")

    def __init__(self, factory: Callable[[], Any] | None, expected_class: type | None) -> None:
        self.factory = factory  # None: the type only has registered instances
        self.expected_class = expected_class


class AgentDirectory:
    """The registered agent types and the live agents of one runtime."""

    def __init__(self, runtime: SingleThreadedAgentRuntime) -> None:
        self._runtime = runtime
        self.factories: dict[str, FactoryEntry] = {}
        self.activations: dict[AgentId, Activation] = {}  # agents that exist
        self.creating: dict[AgentId, Activation] = {}  # agents whose async factory is running
        self._instance_classes: dict[str, type] = {}

    # ------------------------------------------------------------------ activations

    def activation(self, agent_id: AgentId) -> Activation:
        """The activation for ``agent_id``, made on first use.

        A synchronous factory runs now. An asynchronous one runs in a task of its own,
        while messages for the agent wait in its mailbox in arrival order; no caller's
        timeout or cancellation can interrupt it for the others.
        """
        activation = self.activations.get(agent_id) or self.creating.get(agent_id)
        if activation is not None:
            return activation
        entry = self.factories.get(agent_id.type)
        if entry is None:
            raise AgentNotFoundError(f"Agent type {agent_id.type!r} is not registered with this runtime")
        if entry.factory is None:
            raise AgentNotFoundError(
                f"Agent type {agent_id.type!r} has only registered instances, and {agent_id} is not one of them"
            )
        runtime = self._runtime
        lifecycle = runtime._lifecycle
        try:
            with AgentInstantiationContext.populate_context((runtime, agent_id)):
                result = entry.factory()
                if inspect.isawaitable(result):
                    activates = True
                else:
                    result = _check_agent(agent_id, entry, result)
                    activates = lifecycle.needs_activation(result, agent_id.type)
                if activates:
                    # An async factory, an on_activate hook or stored state to load: the
                    # agent becomes live in a task of its own.
                    activation = Activation(agent_id, None)
                    activation.busy = True  # messages wait in the mailbox until it exists
                    loop = runtime._get_loop()
                    activation.created = loop.create_future()
                    self.creating[agent_id] = activation
                    lifecycle.attach(activation)
                    runtime._keep(loop.create_task(self._create(activation, entry, result)))
                    return activation
        except Exception as e:
            _construction_failed(agent_id, e)
            raise
        activation = self.activations[agent_id] = Activation(agent_id, result)
        lifecycle.attach(activation)
        return activation

    async def _create(self, activation: Activation, entry: FactoryEntry, pending: Any) -> None:
        """Make the agent live: await its factory (if async), then load its state and run its
        ``on_activate`` (if it has them). If any of these fails, the agent is dropped and the
        messages waiting for it fail with the exception."""
        agent_id = activation.agent_id
        created = activation.created
        assert created is not None
        runtime = self._runtime
        lifecycle = runtime._lifecycle
        try:
            agent = _check_agent(agent_id, entry, await pending) if inspect.isawaitable(pending) else pending
            if lifecycle.needs_activation(agent, agent_id.type):
                # Not bound yet: until it is, every message (interleaved ones too) waits.
                await lifecycle.activate(activation, agent)
        except BaseException as e:
            del self.creating[agent_id]
            lifecycle.detach(activation)
            _construction_failed(agent_id, e)
            error: BaseException = e
            if isinstance(e, asyncio.CancelledError) and runtime._closing:
                error = RuntimeStoppedError(f"The runtime closed while {agent_id} was being created")
            set_error(created, error)
            if not created.cancelled():
                created.exception()  # waiters re-raise it; don't report it as never retrieved
            runtime._fail_mailbox(activation, error)
            if not isinstance(e, Exception):
                raise
            return
        activation.bind(agent)
        activation.created = None
        del self.creating[agent_id]
        self.activations[agent_id] = activation
        created.set_result(None)
        runtime._release(activation)

    async def agent(self, agent_id: AgentId) -> Agent:
        """The agent object behind ``agent_id``, created (and waited for) if need be."""
        if self._runtime._lifecycle.deactivating:
            await self._runtime._lifecycle.wait_deactivated(agent_id)
        activation = self.activations.get(agent_id)
        if activation is None:
            activation = self.activation(agent_id)
        if activation.created is not None:
            await asyncio.shield(activation.created)
        return activation.agent

    # ------------------------------------------------------------------ registration

    def register_factory(
        self,
        type: str | AgentType,
        agent_factory: Callable[[], Any],
        expected_class: type | None,
        *,
        idle_timeout: float | None = None,
        max_live: int | None = None,
        persistent: bool | None = None,
    ) -> AgentType:
        name = type.type if isinstance(type, AgentType) else type
        check_agent_type(name)
        if not callable(agent_factory):
            raise TypeError(f"agent_factory must be callable, got {agent_factory!r}")
        if name in self.factories:
            raise ValueError(f"Agent with type {name!r} already exists.")
        self._runtime._lifecycle.configure(name, idle_timeout=idle_timeout, max_live=max_live, persistent=persistent)
        self.factories[name] = FactoryEntry(agent_factory, expected_class)
        return AgentType(name)

    async def register_instance(self, agent_instance: Agent, agent_id: AgentId) -> AgentId:
        if agent_id in self.activations:
            raise ValueError(f"Agent with id {agent_id} already exists.")
        entry = self.factories.get(agent_id.type)
        if entry is not None and entry.factory is not None:
            raise ValueError(
                f"Agent type {agent_id.type!r} is registered with a factory; factories and instances "
                "cannot be registered to the same type."
            )
        if entry is not None and self._instance_classes[agent_id.type] is not type(agent_instance):
            raise ValueError(
                f"Instances of agent type {agent_id.type!r} must be the same object type "
                f"({self._instance_classes[agent_id.type].__name__})"
            )
        if entry is None:
            check_agent_type(agent_id.type)
            self.factories[agent_id.type] = FactoryEntry(None, None)
            self._instance_classes[agent_id.type] = type(agent_instance)
        try:
            await agent_instance.bind_id_and_runtime(id=agent_id, runtime=self._runtime)
            await self._runtime._lifecycle.activate_instance(agent_instance)
        except BaseException:
            if entry is None:  # the type was registered for this instance only: take it back
                del self.factories[agent_id.type]
                del self._instance_classes[agent_id.type]
            raise
        self.activations[agent_id] = Activation(agent_id, agent_instance)
        return agent_id

    # ------------------------------------------------------------------ whole-runtime state

    async def save_state(self) -> Mapping[str, Any]:
        return {
            str(agent_id): dict(await activation.agent.save_state())
            for agent_id, activation in list(self.activations.items())
        }

    async def load_state(self, state: Mapping[str, Any]) -> None:
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a mapping of 'type/key' to agent state, got {type(state).__name__}")
        entries: list[tuple[AgentId, Mapping[str, Any]]] = []
        for key, agent_state in state.items():
            try:
                agent_id = AgentId.from_str(key)
            except (TypeError, ValueError) as e:
                raise ValueError(f"load_state: {key!r} is not a valid 'type/key' agent id: {e}") from None
            if not isinstance(agent_state, Mapping):
                raise ValueError(f"load_state: the state of {key} must be a mapping, got {type(agent_state).__name__}")
            if agent_id.type not in self.factories:
                logger.warning("load_state: skipped %s, agent type %r is not registered", key, agent_id.type)
                continue
            entries.append((agent_id, agent_state))
        agents = [(await self.agent(agent_id), agent_state) for agent_id, agent_state in entries]
        previous = [await agent.save_state() for agent, _ in agents]
        for done, (agent, agent_state) in enumerate(agents):
            try:
                await agent.load_state(agent_state)
            except BaseException:
                for (loaded, _), before in zip(agents[: done + 1], previous, strict=False):
                    try:
                        await loaded.load_state(before)
                    except Exception:
                        logger.exception("load_state: could not restore the previous state of %s", loaded.id)
                raise


def _check_agent(agent_id: AgentId, entry: FactoryEntry, result: Any) -> Agent:
    expected = entry.expected_class
    if expected is not None and not isinstance(result, expected):
        raise ValueError(
            f"Factory registered using the wrong type: expected {expected.__name__}, got {type(result).__name__}"
        )
    if not callable(getattr(result, "on_message", None)):
        raise TypeError(f"Factory for {agent_id.type!r} returned {type(result).__name__}, which is not an Agent")
    return result  # type: ignore[no-any-return]


def _construction_failed(agent_id: AgentId, exc: BaseException) -> None:
    if event_logger.isEnabledFor(logging.INFO):
        event_logger.info(AgentConstructionExceptionEvent(agent_id=agent_id, exception=exc))
    logger.error("Error constructing agent %s", agent_id, exc_info=exc)
