"""Message serializers: how payloads cross process boundaries.

Only registered serializers are ever used — JSON for dataclasses and pydantic models,
protobuf for protobuf messages. Nothing is pickled, ever.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, cast

from pydantic import BaseModel, TypeAdapter

__all__ = [
    "JSON_DATA_CONTENT_TYPE",
    "PROTOBUF_DATA_CONTENT_TYPE",
    "MessageSerializer",
    "UnknownPayload",
    "DataclassJsonMessageSerializer",
    "PydanticJsonMessageSerializer",
    "ProtobufMessageSerializer",
    "SerializationRegistry",
    "try_get_known_serializers_for_type",
    "has_nested_base_model",
    "type_name_of",
]

if TYPE_CHECKING:
    from google.protobuf.message import Message


def _is_protobuf_class(cls: type) -> bool:
    # protobuf is imported on first use only (it costs ~0.1 s of start-up): if no module has
    # imported it yet, no object can be a protobuf message.
    module = sys.modules.get("google.protobuf.message")
    return module is not None and issubclass(cls, module.Message)


JSON_DATA_CONTENT_TYPE = "application/json"
PROTOBUF_DATA_CONTENT_TYPE = "application/x-protobuf"

T = TypeVar("T")


class MessageSerializer(Protocol[T]):
    @property
    def data_content_type(self) -> str: ...

    @property
    def type_name(self) -> str: ...

    def deserialize(self, payload: bytes) -> T: ...

    def serialize(self, message: T) -> bytes: ...


@dataclass
class UnknownPayload:
    """A payload whose type has no registered serializer here, kept as raw bytes."""

    type_name: str
    data_content_type: str
    payload: bytes


def type_name_of(cls_or_obj: Any) -> str:
    """The wire name of a message type: protobuf full name, else the class name."""
    cls = cls_or_obj if isinstance(cls_or_obj, type) else type(cls_or_obj)
    if _is_protobuf_class(cls):
        return str(cls.DESCRIPTOR.full_name)  # type: ignore[attr-defined]
    return cls.__name__


def has_nested_base_model(cls: type[Any]) -> bool:
    """True when a dataclass holds a pydantic model anywhere in its fields' types.

    Looks through generic arguments at any depth (``list[list[Model]]``, ``dict[str, Model | None]``)
    and into nested dataclasses; string annotations are resolved where they can be.
    """
    return dataclasses.is_dataclass(cls) and _mentions_base_model(cls, set())


def _mentions_base_model(t: Any, seen: set[int]) -> bool:
    if id(t) in seen:  # a self-referencing dataclass, or a type reached twice
        return False
    seen.add(id(t))
    if isinstance(t, type):
        if issubclass(t, BaseModel):
            return True
        if dataclasses.is_dataclass(t):
            return any(_mentions_base_model(field_type, seen) for field_type in _field_types(t))
    return any(_mentions_base_model(arg, seen) for arg in typing.get_args(t))


def _field_types(cls: type[Any]) -> list[Any]:
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an annotation that names something not importable here: use what is there
        hints = {}
    return [hints.get(f.name, f.type) for f in dataclasses.fields(cls)]


class DataclassJsonMessageSerializer(MessageSerializer[T]):
    """JSON for dataclasses, validated on the way in (nested dataclasses, unions and models work)."""

    def __init__(self, cls: type[T]) -> None:
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"{cls!r} is not a dataclass")
        self.cls = cls
        try:
            self._adapter: TypeAdapter[T] = TypeAdapter(cls)
        except Exception as e:  # pydantic cannot build a schema for some field
            raise ValueError(f"Cannot build a JSON serializer for dataclass {cls.__qualname__}: {e}") from e

    @property
    def data_content_type(self) -> str:
        return JSON_DATA_CONTENT_TYPE

    @property
    def type_name(self) -> str:
        return type_name_of(self.cls)

    def deserialize(self, payload: bytes) -> T:
        return self._adapter.validate_json(payload)

    def serialize(self, message: T) -> bytes:
        # Byte for byte what autogen_core writes, json.dumps(asdict(message)): ", " and ": "
        # separators, non-ASCII escaped. Peers in other languages and stored payloads compare
        # bytes. pydantic's dump_json is compact and ~2 us faster for a small message (~12 us
        # for one with a 50-item list); docs/migrating-from-autogen.md has the measurement.
        return json.dumps(self._adapter.dump_python(message, mode="json")).encode()


class PydanticJsonMessageSerializer(MessageSerializer[T]):
    """JSON for pydantic models."""

    def __init__(self, cls: type[T]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            raise ValueError(f"{cls!r} is not a pydantic model")
        self.cls = cls

    @property
    def data_content_type(self) -> str:
        return JSON_DATA_CONTENT_TYPE

    @property
    def type_name(self) -> str:
        return type_name_of(self.cls)

    def deserialize(self, payload: bytes) -> T:
        return cast(T, cast(type[BaseModel], self.cls).model_validate_json(payload))

    def serialize(self, message: T) -> bytes:
        # Compact, as autogen_core writes pydantic models (model_dump_json).
        return cast(BaseModel, message).model_dump_json().encode()


class ProtobufMessageSerializer(MessageSerializer[T]):
    """Protobuf messages, packed in a ``google.protobuf.Any``."""

    def __init__(self, cls: type[T]) -> None:
        if not (isinstance(cls, type) and _is_protobuf_class(cls)):
            raise ValueError(f"{cls!r} is not a protobuf message")
        self.cls = cls

    @property
    def data_content_type(self) -> str:
        return PROTOBUF_DATA_CONTENT_TYPE

    @property
    def type_name(self) -> str:
        return type_name_of(self.cls)

    def deserialize(self, payload: bytes) -> T:
        from google.protobuf import any_pb2
        from google.protobuf.message import DecodeError

        packed = any_pb2.Any()
        try:
            packed.ParseFromString(payload)
        except DecodeError as e:  # a ValueError, like the JSON serializers' errors
            raise ValueError(f"Invalid protobuf payload for {self.type_name}: {e}") from e
        out = cast("type[Message]", self.cls)()
        if not packed.Unpack(out):
            raise ValueError(f"Payload holds {packed.type_url!r}, not {self.type_name}")
        return cast(T, out)

    def serialize(self, message: T) -> bytes:
        from google.protobuf import any_pb2

        packed = any_pb2.Any()
        packed.Pack(cast("Message", message))
        return packed.SerializeToString()


def try_get_known_serializers_for_type(cls: type[Any]) -> list[MessageSerializer[Any]]:
    """The serializers actorgen knows for ``cls`` (empty when it knows none)."""
    if not isinstance(cls, type):
        return []
    if issubclass(cls, BaseModel):
        return [PydanticJsonMessageSerializer(cls)]
    if dataclasses.is_dataclass(cls):
        return [DataclassJsonMessageSerializer(cls)]
    if _is_protobuf_class(cls):
        return [ProtobufMessageSerializer(cls)]
    return []


class SerializationRegistry:
    """Serializers by (type name, content type)."""

    _NO_SERIALIZER: ClassVar[str] = "No serializer registered for message type {name!r} with content type {ct!r}"

    def __init__(self) -> None:
        self._serializers: dict[tuple[str, str], MessageSerializer[Any]] = {}

    def add_serializer(self, serializer: MessageSerializer[Any] | Sequence[MessageSerializer[Any]]) -> None:
        if isinstance(serializer, Sequence):
            for s in serializer:
                self.add_serializer(s)
            return
        self._serializers[(serializer.type_name, serializer.data_content_type)] = serializer

    def deserialize(self, payload: bytes, *, type_name: str, data_content_type: str) -> Any:
        serializer = self._serializers.get((type_name, data_content_type))
        if serializer is None:
            return UnknownPayload(type_name, data_content_type, payload)
        return serializer.deserialize(payload)

    def serialize(self, message: Any, *, type_name: str, data_content_type: str) -> bytes:
        serializer = self._serializers.get((type_name, data_content_type))
        if serializer is None:
            raise ValueError(self._NO_SERIALIZER.format(name=type_name, ct=data_content_type))
        return serializer.serialize(message)

    def is_registered(self, type_name: str, data_content_type: str) -> bool:
        return (type_name, data_content_type) in self._serializers

    def type_name(self, message: Any) -> str:
        return type_name_of(message)

    def content_types_for(self, type_name: str) -> list[str]:
        return [ct for (name, ct) in self._serializers if name == type_name]
