"""ClosureAgent: an agent made from one async function."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol, TypeVar

from ..base import (
    AgentId,
    AgentInstantiationContext,
    AgentRuntime,
    AgentType,
    BaseAgent,
    CancellationToken,
    MessageContext,
    Subscription,
    SubscriptionInstantiationContext,
    TopicId,
    try_get_known_serializers_for_type,
)
from ..base._type_helpers import AnyType, get_types, type_hints_with_locals
from ..base.exceptions import CantHandleException

T = TypeVar("T")


class ClosureContext(Protocol):
    @property
    def id(self) -> AgentId: ...

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any: ...

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        cancellation_token: CancellationToken | None = None,
    ) -> None: ...


def _expected_types(closure: Callable[..., Awaitable[Any]]) -> tuple[type, ...]:
    params = inspect.getfullargspec(closure).args
    if len(params) != 3:
        raise AssertionError("A closure must take exactly 3 parameters: (context, message, ctx)")
    hints = type_hints_with_locals(closure)
    if "return" not in hints:
        raise AssertionError("A closure must have a return annotation")
    annotation = hints.get(params[1], Any)
    types = get_types(annotation)
    if types is None:
        raise AssertionError(f"Message type not found in {annotation!r}")
    return types


class ClosureAgent(BaseAgent, ClosureContext):
    """Runs ``closure(agent, message, ctx)`` for each message of the annotated type(s).

    A closure annotated ``Any`` (or unannotated) receives every message.
    """

    def __init__(
        self,
        description: str,
        closure: Callable[[ClosureContext, T, MessageContext], Awaitable[Any]],
        *,
        unknown_type_policy: Literal["error", "warn", "ignore"] = "warn",
    ) -> None:
        if not AgentInstantiationContext.is_in_factory_call():
            raise RuntimeError(
                "ClosureAgent must be instantiated within the context of an AgentRuntime "
                "(use ClosureAgent.register_closure)"
            )
        super().__init__(description)
        self._closure = closure
        self._expected = _expected_types(closure)
        self._accepts_any = AnyType in self._expected
        self._unknown_type_policy = unknown_type_policy

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        if not self._accepts_any and not isinstance(message, self._expected):
            names = ", ".join(t.__name__ for t in self._expected)
            text = f"Closure agent {self.id} expects {names}, got {type(message).__name__}"
            if self._unknown_type_policy == "error" or (ctx.is_rpc and self._unknown_type_policy == "warn"):
                # A request the closure does not take fails for its caller, as with any agent
                # kind; only events are merely warned about ("ignore" runs the closure anyway).
                raise CantHandleException(text)
            if self._unknown_type_policy == "warn":
                warnings.warn(text, stacklevel=2)
                return None
        return await self._closure(self, message, ctx)

    async def save_state(self) -> Mapping[str, Any]:
        return {}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        pass

    @classmethod
    async def register_closure(
        cls,
        runtime: AgentRuntime,
        type: str,
        closure: Callable[[ClosureContext, T, MessageContext], Awaitable[Any]],
        *,
        unknown_type_policy: Literal["error", "warn", "ignore"] = "warn",
        skip_direct_message_subscription: bool = False,
        description: str = "",
        subscriptions: Callable[[], list[Subscription] | Awaitable[list[Subscription]]] | None = None,
    ) -> AgentType:
        """Register ``closure`` as agent type ``type`` with the given subscriptions."""
        expected = _expected_types(closure)

        def factory() -> ClosureAgent:
            return ClosureAgent(description, closure, unknown_type_policy=unknown_type_policy)

        # Evaluated before registering, so that a failing callback leaves nothing registered.
        subs: list[Subscription] = []
        if subscriptions is not None:
            with SubscriptionInstantiationContext.populate_context(AgentType(type)):
                result = subscriptions()
                subs = list(await result) if inspect.isawaitable(result) else list(result)
        agent_type = await cls.register(
            runtime,
            type,
            factory,
            skip_class_subscriptions=True,
            skip_direct_message_subscription=skip_direct_message_subscription,
        )
        for sub in subs:
            await runtime.add_subscription(sub)
        for t in expected:
            runtime.add_message_serializer(try_get_known_serializers_for_type(t))
        return agent_type
