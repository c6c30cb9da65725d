"""actorgen-core: an actor runtime for AI agents with autogen_core's programming model.

Every name autogen_core 0.7 exports at its top level is exported here with the same
signature. Deliberate differences are listed in docs/migrating-from-autogen.md.
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from .application import SingleThreadedAgentRuntime
from .base import (
    EVENT_LOGGER_NAME,
    JSON_DATA_CONTENT_TYPE,
    PROTOBUF_DATA_CONTENT_TYPE,
    ROOT_LOGGER_NAME,
    TRACE_LOGGER_NAME,
    Agent,
    AgentId,
    AgentInstantiationContext,
    AgentMetadata,
    AgentRuntime,
    AgentType,
    BaseAgent,
    CancellationToken,
    DefaultInterventionHandler,
    DefaultSubscription,
    DefaultTopicId,
    DropMessage,
    InterventionHandler,
    MessageContext,
    MessageHandlerContext,
    MessageSerializer,
    Subscription,
    SubscriptionInstantiationContext,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
    UnknownPayload,
    default_subscription,
    trace_create_agent_span,
    trace_invoke_agent_span,
    trace_tool_span,
    try_get_known_serializers_for_type,
    type_subscription,
)
from .base._cache_store import CacheStore, InMemoryStore
from .base._component_config import (
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
from .base._function_call import FunctionCall
from .base._image import Image
from .components import (
    AgentProxy,
    ClosureAgent,
    ClosureContext,
    RoutedAgent,
    event,
    message_handler,
    rpc,
)

try:
    __version__ = _version("actorgen-core")
except _PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    # identity / addressing
    "AgentId",
    "AgentType",
    "TopicId",
    "DefaultTopicId",
    "AgentMetadata",
    # agents
    "Agent",
    "BaseAgent",
    "RoutedAgent",
    "ClosureAgent",
    "ClosureContext",
    "AgentProxy",
    "message_handler",
    "event",
    "rpc",
    # runtime
    "AgentRuntime",
    "SingleThreadedAgentRuntime",
    # context helpers
    "AgentInstantiationContext",
    "MessageHandlerContext",
    "SubscriptionInstantiationContext",
    # messaging primitives
    "MessageContext",
    "CancellationToken",
    "FunctionCall",
    "Image",
    # subscriptions
    "Subscription",
    "TypeSubscription",
    "TypePrefixSubscription",
    "DefaultSubscription",
    "default_subscription",
    "type_subscription",
    # serialization
    "MessageSerializer",
    "UnknownPayload",
    "try_get_known_serializers_for_type",
    "JSON_DATA_CONTENT_TYPE",
    "PROTOBUF_DATA_CONTENT_TYPE",
    # intervention
    "InterventionHandler",
    "DefaultInterventionHandler",
    "DropMessage",
    # component config
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
    # cache
    "CacheStore",
    "InMemoryStore",
    # logging
    "ROOT_LOGGER_NAME",
    "EVENT_LOGGER_NAME",
    "TRACE_LOGGER_NAME",
    # telemetry
    "trace_create_agent_span",
    "trace_invoke_agent_span",
    "trace_tool_span",
]
