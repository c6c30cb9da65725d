"""The base layer: identities, messages, subscriptions, the agent and runtime protocols.

Imports only the standard library, pydantic, protobuf and typing-extensions (plus the
OpenTelemetry API for the GenAI span helpers, and Pillow lazily for Image). Everything
above this layer imports from here; see docs/layout.md.
"""

from ._agent import Agent
from ._agent_id import AgentId
from ._agent_metadata import AgentMetadata
from ._agent_runtime import AgentRuntime
from ._agent_type import AgentType
from ._base_agent import BaseAgent, handles, subscription_factory
from ._cache_store import CacheStore, InMemoryStore
from ._cancellation_token import CancellationToken
from ._component_config import (
    Component,
    ComponentBase,
    ComponentFromConfig,
    ComponentLoader,
    ComponentModel,
    ComponentSchemaType,
    ComponentToConfig,
    ComponentType,
    is_component_class,
    is_component_instance,
)
from ._constants import EVENT_LOGGER_NAME, ROOT_LOGGER_NAME, TRACE_LOGGER_NAME
from ._contexts import (
    AgentInstantiationContext,
    MessageHandlerContext,
    SubscriptionInstantiationContext,
)
from ._default_subscription import DefaultSubscription, default_subscription, type_subscription
from ._default_topic import DefaultTopicId
from ._events import (
    AgentConstructionExceptionEvent,
    DeliveryStage,
    LLMCallEvent,
    LLMStreamEndEvent,
    LLMStreamStartEvent,
    MessageDroppedEvent,
    MessageEvent,
    MessageHandlerExceptionEvent,
    MessageKind,
    ToolCallEvent,
)
from ._function_call import FunctionCall
from ._genai_telemetry import trace_create_agent_span, trace_invoke_agent_span, trace_tool_span
from ._image import Image
from ._intervention import DefaultInterventionHandler, DropMessage, InterventionHandler
from ._message_context import MessageContext
from ._serialization import (
    JSON_DATA_CONTENT_TYPE,
    PROTOBUF_DATA_CONTENT_TYPE,
    MessageSerializer,
    UnknownPayload,
    try_get_known_serializers_for_type,
)
from ._subscription import Subscription
from ._topic import TopicId
from ._type_prefix_subscription import TypePrefixSubscription
from ._type_subscription import TypeSubscription

__all__ = [
    "Agent",
    "AgentId",
    "AgentMetadata",
    "AgentRuntime",
    "AgentType",
    "BaseAgent",
    "handles",
    "subscription_factory",
    "CacheStore",
    "InMemoryStore",
    "CancellationToken",
    "Component",
    "ComponentBase",
    "ComponentFromConfig",
    "ComponentLoader",
    "ComponentModel",
    "ComponentSchemaType",
    "ComponentToConfig",
    "ComponentType",
    "is_component_class",
    "is_component_instance",
    "EVENT_LOGGER_NAME",
    "ROOT_LOGGER_NAME",
    "TRACE_LOGGER_NAME",
    "AgentInstantiationContext",
    "MessageHandlerContext",
    "SubscriptionInstantiationContext",
    "DefaultSubscription",
    "default_subscription",
    "type_subscription",
    "DefaultTopicId",
    "AgentConstructionExceptionEvent",
    "DeliveryStage",
    "LLMCallEvent",
    "LLMStreamEndEvent",
    "LLMStreamStartEvent",
    "MessageDroppedEvent",
    "MessageEvent",
    "MessageHandlerExceptionEvent",
    "MessageKind",
    "ToolCallEvent",
    "FunctionCall",
    "trace_create_agent_span",
    "trace_invoke_agent_span",
    "trace_tool_span",
    "Image",
    "DefaultInterventionHandler",
    "DropMessage",
    "InterventionHandler",
    "MessageContext",
    "JSON_DATA_CONTENT_TYPE",
    "PROTOBUF_DATA_CONTENT_TYPE",
    "MessageSerializer",
    "UnknownPayload",
    "try_get_known_serializers_for_type",
    "Subscription",
    "TopicId",
    "TypePrefixSubscription",
    "TypeSubscription",
]
