from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from ._agent_type import AgentType
from ._contexts import SubscriptionInstantiationContext
from ._subscription import Subscription
from ._type_subscription import TypeSubscription
from .exceptions import CantHandleException

BaseAgentT = TypeVar("BaseAgentT", bound=type[Any])


class DefaultSubscription(TypeSubscription):
    """A TypeSubscription for the agent type being registered (``topic_type`` defaults to "default")."""

    def __init__(self, topic_type: str = "default", agent_type: str | AgentType | None = None) -> None:
        if agent_type is None:
            try:
                agent_type = SubscriptionInstantiationContext.agent_type().type
            except RuntimeError as e:
                raise CantHandleException(
                    "DefaultSubscription() without agent_type must be created inside the subscription "
                    "callback of register (or pass agent_type=...)"
                ) from e
        super().__init__(topic_type, agent_type)


def _add_unbound(cls: BaseAgentT, factory: Callable[[], list[Subscription]]) -> BaseAgentT:
    cls.internal_unbound_subscriptions_list.append(factory)
    return cls


@overload
def default_subscription(cls: None = None) -> Callable[[BaseAgentT], BaseAgentT]: ...
@overload
def default_subscription(cls: BaseAgentT) -> BaseAgentT: ...
def default_subscription(
    cls: BaseAgentT | None = None,
) -> Callable[[BaseAgentT], BaseAgentT] | BaseAgentT:
    """Class decorator: agents of the registered type receive the "default" topic."""
    if cls is None:
        return lambda c: _add_unbound(c, lambda: [DefaultSubscription()])
    return _add_unbound(cls, lambda: [DefaultSubscription()])


def type_subscription(topic_type: str) -> Callable[[BaseAgentT], BaseAgentT]:
    """Class decorator: agents of the registered type receive topics of ``topic_type``."""
    return lambda c: _add_unbound(c, lambda: [DefaultSubscription(topic_type=topic_type)])
