from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Frame(_message.Message):
    __slots__ = ("envelopes",)
    ENVELOPES_FIELD_NUMBER: _ClassVar[int]
    envelopes: _containers.RepeatedCompositeFieldContainer[Envelope]
    def __init__(self, envelopes: _Optional[_Iterable[_Union[Envelope, _Mapping]]] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("hello", "welcome", "declare_type", "add_route", "remove_route", "claim", "ack", "request", "response", "cancel", "event", "heartbeat")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    DECLARE_TYPE_FIELD_NUMBER: _ClassVar[int]
    ADD_ROUTE_FIELD_NUMBER: _ClassVar[int]
    REMOVE_ROUTE_FIELD_NUMBER: _ClassVar[int]
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    welcome: Welcome
    declare_type: DeclareType
    add_route: AddRoute
    remove_route: RemoveRoute
    claim: Claim
    ack: Ack
    request: Request
    response: Response
    cancel: Cancel
    event: Event
    heartbeat: Heartbeat
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., welcome: _Optional[_Union[Welcome, _Mapping]] = ..., declare_type: _Optional[_Union[DeclareType, _Mapping]] = ..., add_route: _Optional[_Union[AddRoute, _Mapping]] = ..., remove_route: _Optional[_Union[RemoveRoute, _Mapping]] = ..., claim: _Optional[_Union[Claim, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., request: _Optional[_Union[Request, _Mapping]] = ..., response: _Optional[_Union[Response, _Mapping]] = ..., cancel: _Optional[_Union[Cancel, _Mapping]] = ..., event: _Optional[_Union[Event, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AgentRef(_message.Message):
    __slots__ = ("type", "key")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    type: str
    key: str
    def __init__(self, type: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class Payload(_message.Message):
    __slots__ = ("type_name", "content_type", "data")
    TYPE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    type_name: str
    content_type: str
    data: bytes
    def __init__(self, type_name: _Optional[str] = ..., content_type: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("protocol_version", "worker_name", "direct_address", "peer", "token")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKER_NAME_FIELD_NUMBER: _ClassVar[int]
    DIRECT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    worker_name: str
    direct_address: str
    peer: bool
    token: str
    def __init__(self, protocol_version: _Optional[int] = ..., worker_name: _Optional[str] = ..., direct_address: _Optional[str] = ..., peer: _Optional[bool] = ..., token: _Optional[str] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("protocol_version", "worker_id")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    worker_id: str
    def __init__(self, protocol_version: _Optional[int] = ..., worker_id: _Optional[str] = ...) -> None: ...

class DeclareType(_message.Message):
    __slots__ = ("op_id", "agent_type")
    OP_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    op_id: int
    agent_type: str
    def __init__(self, op_id: _Optional[int] = ..., agent_type: _Optional[str] = ...) -> None: ...

class TypeRoute(_message.Message):
    __slots__ = ("topic_type", "agent_type")
    TOPIC_TYPE_FIELD_NUMBER: _ClassVar[int]
    AGENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    topic_type: str
    agent_type: str
    def __init__(self, topic_type: _Optional[str] = ..., agent_type: _Optional[str] = ...) -> None: ...

class PrefixRoute(_message.Message):
    __slots__ = ("topic_type_prefix", "agent_type")
    TOPIC_TYPE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    AGENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    topic_type_prefix: str
    agent_type: str
    def __init__(self, topic_type_prefix: _Optional[str] = ..., agent_type: _Optional[str] = ...) -> None: ...

class AddRoute(_message.Message):
    __slots__ = ("op_id", "subscription_id", "type_route", "prefix_route")
    OP_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_ROUTE_FIELD_NUMBER: _ClassVar[int]
    PREFIX_ROUTE_FIELD_NUMBER: _ClassVar[int]
    op_id: int
    subscription_id: str
    type_route: TypeRoute
    prefix_route: PrefixRoute
    def __init__(self, op_id: _Optional[int] = ..., subscription_id: _Optional[str] = ..., type_route: _Optional[_Union[TypeRoute, _Mapping]] = ..., prefix_route: _Optional[_Union[PrefixRoute, _Mapping]] = ...) -> None: ...

class RemoveRoute(_message.Message):
    __slots__ = ("op_id", "subscription_id")
    OP_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    op_id: int
    subscription_id: str
    def __init__(self, op_id: _Optional[int] = ..., subscription_id: _Optional[str] = ...) -> None: ...

class Claim(_message.Message):
    __slots__ = ("op_id", "agents")
    OP_ID_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    op_id: int
    agents: _containers.RepeatedCompositeFieldContainer[AgentRef]
    def __init__(self, op_id: _Optional[int] = ..., agents: _Optional[_Iterable[_Union[AgentRef, _Mapping]]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("op_id", "failure", "refused")
    OP_ID_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    op_id: int
    failure: Failure
    refused: _containers.RepeatedCompositeFieldContainer[AgentRef]
    def __init__(self, op_id: _Optional[int] = ..., failure: _Optional[_Union[Failure, _Mapping]] = ..., refused: _Optional[_Iterable[_Union[AgentRef, _Mapping]]] = ...) -> None: ...

class Failure(_message.Message):
    __slots__ = ("kind", "type_name", "message")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[Failure.Kind]
        AGENT_NOT_FOUND: _ClassVar[Failure.Kind]
        CANT_HANDLE: _ClassVar[Failure.Kind]
        HANDLER_ERROR: _ClassVar[Failure.Kind]
        TIMEOUT: _ClassVar[Failure.Kind]
        DROPPED: _ClassVar[Failure.Kind]
        WORKER_LOST: _ClassVar[Failure.Kind]
        INVALID: _ClassVar[Failure.Kind]
        UNDELIVERABLE: _ClassVar[Failure.Kind]
        NOT_HERE: _ClassVar[Failure.Kind]
    KIND_UNSPECIFIED: Failure.Kind
    AGENT_NOT_FOUND: Failure.Kind
    CANT_HANDLE: Failure.Kind
    HANDLER_ERROR: Failure.Kind
    TIMEOUT: Failure.Kind
    DROPPED: Failure.Kind
    WORKER_LOST: Failure.Kind
    INVALID: Failure.Kind
    UNDELIVERABLE: Failure.Kind
    NOT_HERE: Failure.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    TYPE_NAME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: Failure.Kind
    type_name: str
    message: str
    def __init__(self, kind: _Optional[_Union[Failure.Kind, str]] = ..., type_name: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Request(_message.Message):
    __slots__ = ("request_id", "target", "sender", "payload", "budget_us", "chain", "message_id", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    BUDGET_US_FIELD_NUMBER: _ClassVar[int]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    target: AgentRef
    sender: AgentRef
    payload: Payload
    budget_us: int
    chain: _containers.RepeatedScalarFieldContainer[str]
    message_id: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, request_id: _Optional[int] = ..., target: _Optional[_Union[AgentRef, _Mapping]] = ..., sender: _Optional[_Union[AgentRef, _Mapping]] = ..., payload: _Optional[_Union[Payload, _Mapping]] = ..., budget_us: _Optional[int] = ..., chain: _Optional[_Iterable[str]] = ..., message_id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Response(_message.Message):
    __slots__ = ("request_id", "result", "failure", "direct_address")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    DIRECT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    result: Payload
    failure: Failure
    direct_address: str
    def __init__(self, request_id: _Optional[int] = ..., result: _Optional[_Union[Payload, _Mapping]] = ..., failure: _Optional[_Union[Failure, _Mapping]] = ..., direct_address: _Optional[str] = ...) -> None: ...

class Cancel(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    def __init__(self, request_id: _Optional[int] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("message_id", "topic_type", "topic_source", "sender", "payload", "recipients", "metadata", "recipients_id")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_TYPE_FIELD_NUMBER: _ClassVar[int]
    TOPIC_SOURCE_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    topic_type: str
    topic_source: str
    sender: AgentRef
    payload: Payload
    recipients: _containers.RepeatedCompositeFieldContainer[AgentRef]
    metadata: _containers.ScalarMap[str, str]
    recipients_id: int
    def __init__(self, message_id: _Optional[str] = ..., topic_type: _Optional[str] = ..., topic_source: _Optional[str] = ..., sender: _Optional[_Union[AgentRef, _Mapping]] = ..., payload: _Optional[_Union[Payload, _Mapping]] = ..., recipients: _Optional[_Iterable[_Union[AgentRef, _Mapping]]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., recipients_id: _Optional[int] = ...) -> None: ...
