"""Import path kept for code written against ``autogen_core._serialization``."""

from .base._serialization import (
    JSON_DATA_CONTENT_TYPE,
    PROTOBUF_DATA_CONTENT_TYPE,
    DataclassJsonMessageSerializer,
    MessageSerializer,
    ProtobufMessageSerializer,
    PydanticJsonMessageSerializer,
    SerializationRegistry,
    UnknownPayload,
    has_nested_base_model,
    try_get_known_serializers_for_type,
)

__all__ = [
    "DataclassJsonMessageSerializer",
    "JSON_DATA_CONTENT_TYPE",
    "MessageSerializer",
    "PROTOBUF_DATA_CONTENT_TYPE",
    "ProtobufMessageSerializer",
    "PydanticJsonMessageSerializer",
    "SerializationRegistry",
    "UnknownPayload",
    "has_nested_base_model",
    "try_get_known_serializers_for_type",
]
