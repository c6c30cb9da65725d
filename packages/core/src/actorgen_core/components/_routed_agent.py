"""RoutedAgent: dispatch by message type to methods marked with @message_handler, @event or @rpc."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import (
    Any,
    ClassVar,
    Generic,
    Literal,
    Protocol,
    TypeVar,
    cast,
    overload,
    runtime_checkable,
)

from ..base import BaseAgent, MessageContext, MessageSerializer, try_get_known_serializers_for_type
from ..base._constants import ROOT_LOGGER_NAME
from ..base._type_helpers import AnyType, get_types, type_hints_with_locals
from ..base.exceptions import CantHandleException

logger = logging.getLogger(ROOT_LOGGER_NAME)

AgentT = TypeVar("AgentT")
ReceivesT = TypeVar("ReceivesT")
ProducesT = TypeVar("ProducesT", covariant=True)

Router = Callable[[Any, MessageContext], bool]
HandlerFunc = Callable[[AgentT, ReceivesT, MessageContext], Coroutine[Any, Any, ProducesT]]


@runtime_checkable
class MessageHandler(Protocol[AgentT, ReceivesT, ProducesT]):  # type: ignore[misc]
    target_types: Sequence[type]
    produces_types: Sequence[type]
    is_message_handler: Literal[True]
    router: Router
    interleave: bool

    async def __call__(self, agent: AgentT, message: ReceivesT, ctx: MessageContext) -> ProducesT: ...


class _Handler(Generic[AgentT, ReceivesT, ProducesT]):
    """A decorated handler: callable like the function, plus the routing facts the runtime needs."""

    is_message_handler: Literal[True] = True

    def __init__(
        self,
        func: HandlerFunc[AgentT, ReceivesT, ProducesT],
        kind: Literal["message_handler", "event", "rpc"],
        strict: bool,
        match: Router | None,
        interleave: bool,
    ) -> None:
        hints = type_hints_with_locals(func)
        if "message" not in hints:
            raise AssertionError(f"{func.__qualname__}: the message parameter must be named 'message' and annotated")
        if "return" not in hints:
            raise AssertionError(f"{func.__qualname__}: a return annotation is required")
        target_types = get_types(hints["message"])
        if target_types is None:
            raise AssertionError(f"{func.__qualname__}: message type not found in {hints['message']!r}")
        return_types = get_types(hints["return"])
        if return_types is None:
            raise AssertionError(f"{func.__qualname__}: return type not found in {hints['return']!r}")
        self.func = func
        self.kind = kind
        self.strict = strict
        self.interleave = interleave
        self.target_types: list[type] = list(target_types)
        self.produces_types: list[type] = list(return_types)
        self._match = match
        # None means "always": the common case costs no call at dispatch.
        self.fast_router: Router | None
        if kind == "event":
            self.fast_router = (lambda m, c: not c.is_rpc and match(m, c)) if match else (lambda m, c: not c.is_rpc)
        elif kind == "rpc":
            self.fast_router = (lambda m, c: c.is_rpc and match(m, c)) if match else (lambda m, c: c.is_rpc)
        else:
            self.fast_router = match
        self.__name__ = func.__name__
        self.__qualname__ = func.__qualname__
        self.__doc__ = func.__doc__
        self.__wrapped__ = func
        self._result_types: tuple[type, ...] | None = (
            None if AnyType in self.produces_types else tuple(self.produces_types)
        )
        # A None result that check_result would let through as it is: most handlers' result,
        # passed on at dispatch without the call.
        self.none_passes = kind == "event" or self._result_types is None or type(None) in self._result_types

    def router(self, message: Any, ctx: MessageContext) -> bool:
        return True if self.fast_router is None else self.fast_router(message, ctx)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return lambda message, ctx: self(obj, message, ctx)

    async def __call__(self, agent: AgentT, message: ReceivesT, ctx: MessageContext) -> ProducesT:
        if not isinstance(message, tuple(t for t in self.target_types if t is not AnyType) or (object,)):
            if self.strict and AnyType not in self.target_types:
                raise CantHandleException(
                    f"{self.__qualname__} handles {self._targets_text()}, got {type(message).__name__}"
                )
            logger.warning("%s received unexpected type %s", self.__qualname__, type(message).__name__)
        result = await self.func(agent, message, ctx)
        return cast(ProducesT, self.check_result(result))

    def check_result(self, result: Any) -> Any:
        if self.kind == "event":
            if result is not None:
                if self.strict:
                    raise ValueError(f"Event handler {self.__qualname__} returned a value; events have no response")
                logger.warning("Event handler %s returned a value, ignored", self.__qualname__)
            return None
        expected = self._result_types
        if expected is not None and not isinstance(result, expected):
            text = f"{self.__qualname__} returned {type(result).__name__}, declared {self._produces_text()}"
            if self.strict:
                raise ValueError(text)
            logger.warning(text)
        return result

    def _targets_text(self) -> str:
        return " | ".join(t.__name__ for t in self.target_types)

    def _produces_text(self) -> str:
        return " | ".join(t.__name__ for t in self.produces_types)


def _decorator(
    kind: Literal["message_handler", "event", "rpc"],
    func: Any,
    strict: bool,
    match: Router | None,
    interleave: bool,
) -> Any:
    if func is None:
        return lambda f: _Handler(f, kind, strict, match, interleave)
    return _Handler(func, kind, strict, match, interleave)


@overload
def message_handler(
    func: None = None,
    *,
    strict: bool = ...,
    match: Callable[[Any, MessageContext], bool] | None = ...,
    interleave: bool = ...,
) -> Callable[[HandlerFunc[AgentT, ReceivesT, ProducesT]], MessageHandler[AgentT, ReceivesT, ProducesT]]: ...
@overload
def message_handler(
    func: HandlerFunc[AgentT, ReceivesT, ProducesT],
) -> MessageHandler[AgentT, ReceivesT, ProducesT]: ...
def message_handler(
    func: Any = None,
    *,
    strict: bool = True,
    match: Callable[[Any, MessageContext], bool] | None = None,
    interleave: bool = False,
) -> Any:
    """Mark a method as the handler for the message types of its ``message`` annotation.

    ``strict`` checks the message and the result against the annotations; ``match`` picks
    between several handlers of one type; ``interleave=True`` lets this handler run while
    another message of the same agent is being handled (it bypasses the agent's mailbox).
    """
    return _decorator("message_handler", func, strict, match, interleave)


@overload
def event(
    func: None = None,
    *,
    strict: bool = ...,
    match: Callable[[Any, MessageContext], bool] | None = ...,
    interleave: bool = ...,
) -> Callable[[HandlerFunc[AgentT, ReceivesT, None]], MessageHandler[AgentT, ReceivesT, None]]: ...
@overload
def event(func: HandlerFunc[AgentT, ReceivesT, None]) -> MessageHandler[AgentT, ReceivesT, None]: ...
def event(
    func: Any = None,
    *,
    strict: bool = True,
    match: Callable[[Any, MessageContext], bool] | None = None,
    interleave: bool = False,
) -> Any:
    """Like @message_handler, for published messages only; the handler returns None."""
    return _decorator("event", func, strict, match, interleave)


@overload
def rpc(
    func: None = None,
    *,
    strict: bool = ...,
    match: Callable[[Any, MessageContext], bool] | None = ...,
    interleave: bool = ...,
) -> Callable[[HandlerFunc[AgentT, ReceivesT, ProducesT]], MessageHandler[AgentT, ReceivesT, ProducesT]]: ...
@overload
def rpc(func: HandlerFunc[AgentT, ReceivesT, ProducesT]) -> MessageHandler[AgentT, ReceivesT, ProducesT]: ...
def rpc(
    func: Any = None,
    *,
    strict: bool = True,
    match: Callable[[Any, MessageContext], bool] | None = None,
    interleave: bool = False,
) -> Any:
    """Like @message_handler, for direct requests (send_message) only."""
    return _decorator("rpc", func, strict, match, interleave)


class RoutedAgent(BaseAgent):
    """An agent whose messages go to the decorated method matching their type.

    Lookup is by the message's exact class first, then along its MRO (a subclass of a
    handled type is handled). Among several handlers of one type, the first (by method
    name) whose router accepts the message wins. A request that no handler accepts raises
    CantHandleException for the caller; an unhandled event is logged at INFO.
    """

    _handler_map: ClassVar[dict[type, tuple[_Handler[Any, Any, Any], ...]]] = {}
    _mro_cache: ClassVar[dict[type, tuple[_Handler[Any, Any, Any], ...]]] = {}
    _has_interleaved_handlers: ClassVar[bool] = False
    _interleave_cache: ClassVar[dict[type, bool]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handler_map: dict[type, list[_Handler[Any, Any, Any]]] = {}
        for handler in cls._discover_handlers():
            for target in cast(_Handler[Any, Any, Any], handler).target_types:
                handler_map.setdefault(target, []).append(cast(_Handler[Any, Any, Any], handler))
        cls._handler_map = {t: tuple(hs) for t, hs in handler_map.items()}
        cls._mro_cache = {}
        cls._has_interleaved_handlers = any(h.interleave for hs in cls._handler_map.values() for h in hs)
        cls._interleave_cache = {}

    def __init__(self, description: str) -> None:
        super().__init__(description)

    @classmethod
    def _discover_handlers(cls) -> Sequence[MessageHandler[Any, Any, Any]]:
        handlers: list[MessageHandler[Any, Any, Any]] = []
        for name in dir(cls):
            attr = getattr(cls, name, None)
            if isinstance(attr, _Handler):
                handlers.append(cast(MessageHandler[Any, Any, Any], attr))
        return handlers

    @classmethod
    def _handlers_for(cls, message_type: type) -> tuple[_Handler[Any, Any, Any], ...]:
        found = cls._mro_cache.get(message_type)
        if found is None:
            found = ()
            for base in message_type.__mro__[1:]:
                hs = cls._handler_map.get(base)
                if hs is not None:
                    found = hs
                    break
            if not found:
                found = cls._handler_map.get(AnyType, ())
            cls._mro_cache[message_type] = found
        return found

    @classmethod
    def _interleaves(cls, message_type: type) -> bool:
        """Whether a message of this type runs beside the current turn: it does when every
        handler it would be routed to (by the same lookup as delivery) is interleaved."""
        found = cls._interleave_cache.get(message_type)
        if found is None:
            handlers = cls._handler_map.get(message_type) or cls._handlers_for(message_type)
            found = cls._interleave_cache[message_type] = bool(handlers) and all(h.interleave for h in handlers)
        return found

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        handlers = self._handler_map.get(type(message))
        if handlers is None:
            handlers = self._handlers_for(type(message))
        for handler in handlers:
            router = handler.fast_router
            if router is None or router(message, ctx):
                result = await handler.func(self, message, ctx)
                return None if result is None and handler.none_passes else handler.check_result(result)
        return await self.on_unhandled_message(message, ctx)

    async def on_unhandled_message(self, message: Any, ctx: MessageContext) -> None:
        """Called when no handler accepts ``message``; requests fail with CantHandleException."""
        if ctx.is_rpc:
            raise CantHandleException(
                f"Agent {self.id} ({type(self).__name__}) has no handler for request type {type(message).__name__}"
            )
        logger.info("Unhandled message: %r", message)

    @classmethod
    def _handles_types(cls) -> list[tuple[type[Any], list[MessageSerializer[Any]]]]:
        types: list[tuple[type[Any], list[MessageSerializer[Any]]]] = list(cls.internal_extra_handles_types)
        for handler in cls._discover_handlers():
            for target in handler.target_types:
                if target is type(None) or target is AnyType:
                    continue  # nothing to serialize: Any takes each message with its own serializer
                serializers = try_get_known_serializers_for_type(target)
                if not serializers:
                    name = getattr(target, "__name__", repr(target))
                    raise ValueError(
                        f"No serializers found for type {name} handled by "
                        f"{cast(_Handler[Any, Any, Any], handler).__qualname__}: use a dataclass, a pydantic "
                        "model or a protobuf message, or register the agent with runtime.register_factory"
                    )
                types.append((target, serializers))
            for produced in handler.produces_types:
                serializers = try_get_known_serializers_for_type(produced)
                if serializers:
                    types.append((produced, serializers))
        return types
