"""actorgen-core: an actor runtime for AI agents with autogen_core's programming model.

Every name autogen_core 0.7 exports at its top level is exported here with the same
signature. Deliberate differences are listed in docs/migrating-from-autogen.md.
"""

# How this package is laid out (docs/layout.md says more). Imports only point down the
# layers; tests/core/test_layers.py fails when one points up.
#
#   base/             ids, topics, subscriptions, the Agent and AgentRuntime protocols,
#                     BaseAgent, contexts, serialization, interventions, component config,
#                     Image, FunctionCall, events, exceptions. Imports no other layer.
#   components/       the agent kinds built on BaseAgent: RoutedAgent (+ @message_handler,
#                     @event, @rpc), ClosureAgent, AgentProxy. Imports base.
#   models/ tools/ model_context/ memory/ code_executor/ tool_agent/ utils/
#                     the AI components, each in the public package of its name, in the
#                     files autogen_core uses (models/_types.py, tools/_function_tool.py...),
#                     so its semi-private paths are real modules here too. Import base,
#                     components and each other (never in a cycle).
#   application/      the runtimes. Imports base only.
#   this module, exceptions.py, logging.py
#                     the public surface: re-exports from the layers above.
#   _compat.py        the one table of autogen_core's other semi-private paths
#                     (actorgen_core._agent_id, _serialization, ...), aliased to the module
#                     that holds their names; no module here exists only to re-export.
#
# Each public package sets __module__ of what it exports to its own name, so that
# ``actorgen_core.models.CreateResult`` is what reprs, tracebacks and docs show.

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from . import _compat

# Imported here so that their classes report these modules whatever the user imports first.
from . import exceptions as exceptions
from . import logging as logging
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
    CacheStore,
    CancellationToken,
    Component,
    ComponentBase,
    ComponentFromConfig,
    ComponentLoader,
    ComponentModel,
    ComponentSchemaType,
    ComponentToConfig,
    ComponentType,
    DefaultInterventionHandler,
    DefaultSubscription,
    DefaultTopicId,
    DropMessage,
    FunctionCall,
    Image,
    InMemoryStore,
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
    is_component_class,
    is_component_instance,
    trace_create_agent_span,
    trace_invoke_agent_span,
    trace_tool_span,
    try_get_known_serializers_for_type,
    type_subscription,
)
from .base._public_module import set_public_module as _set_public_module
from .components import (
    AgentProxy,
    ClosureAgent,
    ClosureContext,
    RoutedAgent,
    event,
    message_handler,
    rpc,
)

_compat.install()

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

_set_public_module(__name__, globals())
