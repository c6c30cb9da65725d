from __future__ import annotations

import builtins
import inspect
import warnings
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Self, TypeVar, final

from ._agent import Agent
from ._agent_id import AgentId
from ._agent_metadata import AgentMetadata
from ._agent_runtime import AgentRuntime
from ._agent_type import AgentType
from ._cancellation_token import CancellationToken
from ._contexts import AgentInstantiationContext, SubscriptionInstantiationContext
from ._message_context import MessageContext
from ._serialization import MessageSerializer, try_get_known_serializers_for_type
from ._subscription import Subscription, UnboundSubscription
from ._type_prefix_subscription import TypePrefixSubscription
from ._type_subscription import TypeSubscription

T = TypeVar("T", bound=Agent)
BaseAgentType = TypeVar("BaseAgentType", bound="type[BaseAgent]")


def subscription_factory(subscription: UnboundSubscription) -> Callable[[BaseAgentType], BaseAgentType]:
    """Class decorator adding a subscription callable evaluated at ``register`` time."""

    def decorator(cls: BaseAgentType) -> BaseAgentType:
        cls.internal_unbound_subscriptions_list.append(subscription)
        return cls

    return decorator


def handles(
    type: type[Any], serializer: MessageSerializer[Any] | list[MessageSerializer[Any]] | None = None
) -> Callable[[BaseAgentType], BaseAgentType]:
    """Class decorator declaring an extra message type (and its serializers) the agent handles."""

    def decorator(cls: BaseAgentType) -> BaseAgentType:
        if serializer is None:
            serializers = try_get_known_serializers_for_type(type)
        elif isinstance(serializer, list):
            serializers = serializer
        else:
            serializers = [serializer]
        if not serializers:
            raise ValueError(f"No serializers found for type {type!r}; pass serializer=...")
        cls.internal_extra_handles_types.append((type, serializers))
        return cls

    return decorator


async def _resolve_subscriptions(unbound: UnboundSubscription) -> list[Subscription]:
    result = unbound()
    if inspect.isawaitable(result):
        return list(await result)
    return list(result)


class BaseAgent(ABC, Agent):
    """An agent with an id, a runtime and a description; subclass it and implement on_message_impl."""

    internal_unbound_subscriptions_list: ClassVar[list[UnboundSubscription]] = []
    internal_extra_handles_types: ClassVar[list[tuple[type[Any], list[MessageSerializer[Any]]]]] = []
    _has_interleaved_handlers: ClassVar[bool] = False
    """True for agent classes with handlers that opted in to interleaving; such a class
    has ``_interleaves(message_type)`` to say which messages bypass the mailbox."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Subscription and handled-type declarations belong to the decorated class only.
        cls.internal_unbound_subscriptions_list = []
        cls.internal_extra_handles_types = []

    def __init__(self, description: str) -> None:
        if not isinstance(description, str):
            raise ValueError("Agent description must be a string")
        self._description = description
        if AgentInstantiationContext.is_in_factory_call():
            self._runtime: AgentRuntime = AgentInstantiationContext.current_runtime()
            self._id: AgentId = AgentInstantiationContext.current_agent_id()

    @property
    def metadata(self) -> AgentMetadata:
        return AgentMetadata(key=self._id.key, type=self._id.type, description=self._description)

    @property
    def id(self) -> AgentId:
        return self._id

    @property
    def type(self) -> str:
        return self._id.type

    @property
    def runtime(self) -> AgentRuntime:
        return self._runtime

    async def bind_id_and_runtime(self, id: AgentId, runtime: AgentRuntime) -> None:
        if hasattr(self, "_id") and self._id != id:
            raise RuntimeError(f"Agent is already bound to id {self._id}, cannot rebind to {id}")
        if hasattr(self, "_runtime") and self._runtime is not runtime:
            raise RuntimeError("Agent is already bound to a different runtime")
        self._id = id
        self._runtime = runtime

    @final
    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        return await self.on_message_impl(message, ctx)

    @abstractmethod
    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any: ...

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send a request from this agent; see AgentRuntime.send_message.

        ``timeout`` (seconds) caps the wait; nested requests never outlive the deadline of
        the request being handled.
        """
        if timeout is None:  # runtimes written for autogen_core's protocol take no timeout
            return await self._runtime.send_message(
                message,
                recipient,
                sender=self._id,
                cancellation_token=cancellation_token,
                message_id=message_id,
            )
        return await self._runtime.send_message(
            message,
            recipient,
            sender=self._id,
            cancellation_token=cancellation_token,
            message_id=message_id,
            timeout=timeout,
        )

    async def publish_message(
        self,
        message: Any,
        topic_id: Any,
        *,
        cancellation_token: CancellationToken | None = None,
    ) -> None:
        await self._runtime.publish_message(message, topic_id, sender=self._id, cancellation_token=cancellation_token)

    async def save_state(self) -> Mapping[str, Any]:
        warnings.warn("save_state not implemented", stacklevel=2)
        return {}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        warnings.warn("load_state not implemented", stacklevel=2)

    async def close(self) -> None:
        pass

    def schedule(self, message: Any, delay: float, *, period: float | None = None) -> Any:
        """Send ``message`` to this agent after ``delay`` seconds (then every ``period``
        seconds, if given): a timer. It lives as long as this activation: cancel it with
        ``.cancel()`` on what this returns; deactivation and the runtime closing cancel it
        too. The message waits its turn in the mailbox like any other (docs/lifecycle.md).
        """
        schedule = getattr(self._runtime, "schedule_message", None)
        if schedule is None:
            raise NotImplementedError(f"{type(self._runtime).__name__} has no timers")
        return schedule(self._id, message, delay, period=period)

    async def set_reminder(self, name: str, message: Any, delay: float, *, period: float | None = None) -> None:
        """Store a reminder ``name``: ``message`` reaches this agent after ``delay`` seconds
        (then every ``period``), even if it was deactivated or the process restarted
        meanwhile. Needs a runtime with a state store; the same name replaces it."""
        set_reminder = getattr(self._runtime, "set_reminder", None)
        if set_reminder is None:
            raise NotImplementedError(f"{type(self._runtime).__name__} has no reminders")
        await set_reminder(self._id, name, message, delay, period=period)

    async def cancel_reminder(self, name: str) -> None:
        """Delete this agent's reminder ``name`` (nothing happens if there is none)."""
        cancel_reminder = getattr(self._runtime, "cancel_reminder", None)
        if cancel_reminder is None:
            raise NotImplementedError(f"{type(self._runtime).__name__} has no reminders")
        await cancel_reminder(self._id, name)

    def deactivate_when_idle(self) -> None:
        """Ask the runtime to drop this agent from memory once its current turn (and
        anything waiting in its mailbox) is done; its next message makes it again from the
        factory, with its state loaded if the runtime has a state store (docs/lifecycle.md).
        """
        deactivate = getattr(self._runtime, "deactivate_when_idle", None)
        if deactivate is None:
            raise NotImplementedError(f"{type(self._runtime).__name__} cannot deactivate agents")
        deactivate(self._id)

    async def on_activate(self) -> None:
        """Called by the runtime after the agent is made and before its first message.

        With a state store configured, the stored state is already loaded. If it raises,
        the agent is dropped and the message that caused the activation fails with the
        exception (or, for a published message, the exception is logged). Does nothing
        by default.
        """

    async def on_deactivate(self) -> None:
        """Called by the runtime before it drops the agent: when it has been idle for its
        type's ``idle_timeout``, when its type's ``max_live`` cap evicts it, or when the
        runtime closes. It runs between turns, never during one. With a state store
        configured, the state is written after this hook. Errors are logged, and the agent
        is dropped anyway. Does nothing by default.
        """

    @classmethod
    def _handles_types(cls) -> list[tuple[builtins.type[Any], list[MessageSerializer[Any]]]]:
        return list(cls.internal_extra_handles_types)

    @classmethod
    def _unbound_subscriptions(cls) -> list[UnboundSubscription]:
        return list(cls.internal_unbound_subscriptions_list)

    async def register_instance(
        self,
        runtime: AgentRuntime,
        agent_id: AgentId,
        *,
        skip_class_subscriptions: bool = True,
        skip_direct_message_subscription: bool = False,
    ) -> AgentId:
        """Register this existing object as ``agent_id`` (its type may hold several instances)."""
        agent_id = await runtime.register_agent_instance(self, agent_id)
        await runtime.add_subscription(TypeSubscription(topic_type=agent_id.key, agent_type=agent_id.type))
        if not skip_class_subscriptions:
            with SubscriptionInstantiationContext.populate_context(AgentType(agent_id.type)):
                subscriptions: list[Subscription] = []
                for unbound in self._unbound_subscriptions():
                    subscriptions.extend(await _resolve_subscriptions(unbound))
            for subscription in subscriptions:
                await runtime.add_subscription(subscription)
        if not skip_direct_message_subscription:
            try:
                await runtime.add_subscription(TypePrefixSubscription(f"{agent_id.type}:", agent_id.type))
            except ValueError:
                pass  # added by an earlier instance of the same type
        _add_serializers(runtime, self._handles_types())
        return agent_id

    @classmethod
    async def register(
        cls,
        runtime: AgentRuntime,
        type: str,
        factory: Callable[[], Self | Awaitable[Self]],
        *,
        skip_class_subscriptions: bool = False,
        skip_direct_message_subscription: bool = False,
        **lifecycle: Any,
    ) -> AgentType:
        """Register ``factory`` for ``type`` together with the class's subscriptions and serializers.

        ``lifecycle`` options (``idle_timeout``, ``max_live``, ``persistent``) go to the
        runtime's ``register_factory`` (docs/lifecycle.md); only runtimes that have them
        accept them.
        """
        # Whatever can fail without touching the runtime runs first, so that such a failure
        # leaves nothing registered.
        handled = cls._handles_types()
        agent_type = AgentType(type)
        subscriptions: list[Subscription] = []
        if not skip_class_subscriptions:
            with SubscriptionInstantiationContext.populate_context(agent_type):
                for unbound in cls._unbound_subscriptions():
                    subscriptions.extend(await _resolve_subscriptions(unbound))
        agent_type = await runtime.register_factory(  # type: ignore[call-arg,unused-ignore]
            type=agent_type, agent_factory=factory, expected_class=cls, **lifecycle
        )
        for subscription in subscriptions:
            await runtime.add_subscription(subscription)
        if not skip_direct_message_subscription:
            await runtime.add_subscription(TypePrefixSubscription(f"{agent_type.type}:", agent_type.type))
        _add_serializers(runtime, handled)
        return agent_type


def _add_serializers(runtime: AgentRuntime, handled: Sequence[tuple[type[Any], list[MessageSerializer[Any]]]]) -> None:
    for _type, serializers in handled:
        runtime.add_message_serializer(serializers)
