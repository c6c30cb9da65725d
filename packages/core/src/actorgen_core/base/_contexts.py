"""Context variables that tell code which agent, runtime or registration it runs for.

One context variable carries the *call frame* of the handler that is running: the chain
of agents waiting on each other (the last one is the agent handling the message) and the
absolute deadline inherited by nested requests. Runtimes set it once per delivery.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar

from ._agent_id import AgentId
from ._agent_type import AgentType

if TYPE_CHECKING:
    from ._agent_runtime import AgentRuntime


class CallFrame:
    """The handler running in this context, and the chain of handlers waiting on it.

    ``agent_id`` is the handling agent (None only for a frame that stands in for a caller
    outside any agent, such as a remote application in the gRPC runtime); ``deadline``
    the absolute event-loop time by which its request must be answered (None: none);
    ``parent`` the frame of the handler waiting on this one (None at the start of a
    chain); ``active`` is cleared when the handler
    ends, so that a task it started and left running is recognised as detached from the
    chain. One is built per delivery, hence the slots.
    """

    __slots__ = ("active", "agent_id", "deadline", "parent")

    def __init__(self, agent_id: AgentId | None, deadline: float | None, parent: CallFrame | None) -> None:
        self.agent_id = agent_id
        self.deadline = deadline
        self.parent = parent
        self.active = True

    def __repr__(self) -> str:
        state = "active" if self.active else "ended"
        return f"<CallFrame {self.agent_id} {state} deadline={self.deadline}>"


CURRENT_FRAME: ContextVar[CallFrame] = ContextVar("actorgen_call_frame")


class _StaticContext:
    def __init__(self) -> None:
        raise RuntimeError(f"{type(self).__name__} is a static class; use its class methods")


class MessageHandlerContext(_StaticContext):
    """Which agent's handler is running in the current context."""

    @classmethod
    @contextmanager
    def populate_context(cls, ctx: AgentId) -> Generator[None, Any, None]:
        parent = CURRENT_FRAME.get(None)
        if parent is not None and not parent.active:
            parent = None
        frame = CallFrame(ctx, parent.deadline if parent is not None else None, parent)
        token = CURRENT_FRAME.set(frame)
        try:
            yield
        finally:
            frame.active = False
            CURRENT_FRAME.reset(token)

    @classmethod
    def agent_id(cls) -> AgentId:
        frame = CURRENT_FRAME.get(None)
        if frame is None:
            raise RuntimeError("MessageHandlerContext.agent_id() called outside of a message handler")
        if frame.agent_id is None:
            raise RuntimeError("MessageHandlerContext.agent_id() called outside of a message handler")
        return frame.agent_id


class AgentInstantiationContext(_StaticContext):
    """Set by runtimes while a factory builds an agent, so the agent learns its id and runtime."""

    _CONTEXT: ClassVar[ContextVar[tuple[AgentRuntime, AgentId]]] = ContextVar("actorgen_agent_instantiation")

    @classmethod
    @contextmanager
    def populate_context(cls, ctx: tuple[AgentRuntime, AgentId]) -> Generator[None, Any, None]:
        token = cls._CONTEXT.set(ctx)
        try:
            yield
        finally:
            cls._CONTEXT.reset(token)

    @classmethod
    def current_runtime(cls) -> AgentRuntime:
        try:
            return cls._CONTEXT.get()[0]
        except LookupError:
            raise RuntimeError(
                "AgentInstantiationContext.current_runtime() must be called inside an agent factory run by a runtime"
            ) from None

    @classmethod
    def current_agent_id(cls) -> AgentId:
        try:
            return cls._CONTEXT.get()[1]
        except LookupError:
            raise RuntimeError(
                "AgentInstantiationContext.current_agent_id() must be called inside an agent factory run by a runtime"
            ) from None

    @classmethod
    def is_in_factory_call(cls) -> bool:
        return cls._CONTEXT.get(None) is not None


class SubscriptionInstantiationContext(_StaticContext):
    """Set while a registration evaluates the subscriptions of an agent type."""

    _CONTEXT: ClassVar[ContextVar[AgentType]] = ContextVar("actorgen_subscription_instantiation")

    @classmethod
    @contextmanager
    def populate_context(cls, ctx: AgentType) -> Generator[None, Any, None]:
        token = cls._CONTEXT.set(ctx)
        try:
            yield
        finally:
            cls._CONTEXT.reset(token)

    @classmethod
    def agent_type(cls) -> AgentType:
        try:
            return cls._CONTEXT.get()
        except LookupError:
            raise RuntimeError(
                "SubscriptionInstantiationContext.agent_type() called outside of a subscription "
                "instantiation (e.g. the subscriptions callback of register)"
            ) from None
