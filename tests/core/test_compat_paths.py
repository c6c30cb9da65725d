"""autogen_core's semi-private import paths keep working after the rename.

Two kinds: paths where our layout has the real module (``models/_types.py``), and the rows of
``actorgen_core._compat.COMPAT_PATHS``, which alias the module holding the names today.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys

import pytest

import actorgen_core
from actorgen_core._compat import COMPAT_PATHS

# Path -> the names code written for autogen_core 0.7 imports from it (reference fact sheet
# §1.11, autogen-ext 0.7.5, autogen-agentchat 0.7.5, AutoGen's docs).
PROMISED: dict[str, list[str]] = {
    "_agent_id": ["AgentId"],
    "_agent_type": ["AgentType"],
    "_agent_metadata": ["AgentMetadata"],
    "_agent": ["Agent"],
    "_agent_runtime": ["AgentRuntime"],
    "_topic": ["TopicId"],
    "_default_topic": ["DefaultTopicId"],
    "_message_context": ["MessageContext"],
    "_cancellation_token": ["CancellationToken"],
    "_subscription": ["Subscription"],
    "_type_subscription": ["TypeSubscription"],
    "_type_prefix_subscription": ["TypePrefixSubscription"],
    "_default_subscription": ["DefaultSubscription", "default_subscription", "type_subscription"],
    "_agent_instantiation": ["AgentInstantiationContext"],
    "_message_handler_context": ["MessageHandlerContext"],
    "_subscription_context": ["SubscriptionInstantiationContext"],
    "_base_agent": ["BaseAgent", "handles", "subscription_factory"],
    "_routed_agent": ["RoutedAgent", "message_handler", "event", "rpc", "MessageHandler"],
    "_closure_agent": ["ClosureAgent", "ClosureContext"],
    "_agent_proxy": ["AgentProxy"],
    "_serialization": [
        "SerializationRegistry",
        "DataclassJsonMessageSerializer",
        "PydanticJsonMessageSerializer",
        "ProtobufMessageSerializer",
        "JSON_DATA_CONTENT_TYPE",
        "PROTOBUF_DATA_CONTENT_TYPE",
        "MessageSerializer",
        "try_get_known_serializers_for_type",
        "has_nested_base_model",
        "UnknownPayload",
    ],
    "_intervention": ["InterventionHandler", "DefaultInterventionHandler", "DropMessage"],
    "_image": ["Image"],
    "_types": ["FunctionCall"],
    "_component_config": ["ComponentModel", "ComponentLoader", "_type_to_provider_str", "_get_trusted_namespaces"],
    "_cache_store": ["CacheStore", "InMemoryStore"],
    "_constants": ["ROOT_LOGGER_NAME", "EVENT_LOGGER_NAME", "TRACE_LOGGER_NAME"],
    "_type_helpers": ["AnyType", "get_types", "is_union", "is_optional"],
    "_telemetry": ["trace_create_agent_span", "trace_invoke_agent_span", "trace_tool_span"],
    "_function_utils": ["get_function_schema", "get_typed_signature", "get_parameters", "type2description"],
    "_runtime_impl_helpers": ["SubscriptionManager"],
    # real modules, laid out as autogen_core lays them out
    "models._model_client": ["ChatCompletionClient", "ModelFamily", "ModelInfo"],
    "models._types": ["CreateResult", "LLMMessage", "UserMessage", "AssistantMessage", "RequestUsage"],
    "tools._base": ["ToolSchema", "BaseTool", "Tool"],
    "tools._function_tool": ["FunctionTool"],
    "tools._static_workbench": ["StaticWorkbench", "StaticStreamWorkbench"],
    "tools._workbench": ["Workbench", "StreamWorkbench", "ToolResult"],
    "model_context._buffered_chat_completion_context": ["BufferedChatCompletionContext"],
    "model_context._chat_completion_context": ["ChatCompletionContext"],
    "memory._base_memory": ["Memory", "MemoryContent"],
    "memory._list_memory": ["ListMemory"],
    "tool_agent._tool_agent": ["ToolAgent", "ToolException"],
    "tool_agent._caller_loop": ["tool_agent_caller_loop"],
    "code_executor._base": ["CodeBlock", "CodeExecutor", "CodeResult"],
    "code_executor._func_with_reqs": ["build_python_functions_file", "to_code", "import_to_str"],
    "utils._json_to_pydantic": ["_JSONSchemaToPydantic", "TYPE_MAPPING", "FORMAT_MAPPING", "SchemaConversionError"],
    "utils._load_json": ["extract_json_from_str"],
}


@pytest.mark.parametrize("path", sorted(PROMISED))
def test_path_gives_the_names(path: str) -> None:
    module = importlib.import_module(f"actorgen_core.{path}")
    missing = [name for name in PROMISED[path] if not hasattr(module, name)]
    assert missing == []
    for name in PROMISED[path]:
        public = getattr(actorgen_core, name, None)
        if public is not None and not name.isupper():
            assert getattr(module, name) is public, f"actorgen_core.{path}.{name} is another object"


def test_every_table_row_is_promised_and_every_alias_is_in_the_table() -> None:
    aliases = {path for path in PROMISED if "." not in path}
    assert aliases == set(COMPAT_PATHS)


@pytest.mark.parametrize("alias", sorted(COMPAT_PATHS))
def test_alias_is_the_module_itself_not_a_copy(alias: str) -> None:
    module = importlib.import_module(f"actorgen_core.{alias}")
    assert module is importlib.import_module(f"actorgen_core.{COMPAT_PATHS[alias]}")
    assert getattr(actorgen_core, alias) is module  # `import actorgen_core._x as m` works too


@pytest.mark.parametrize("alias", sorted(COMPAT_PATHS))
def test_no_alias_shadows_a_real_module(alias: str) -> None:
    # A real module at the same path would win over the alias (the finder runs last), so the
    # row would be dead and misleading.
    assert importlib.util.find_spec(f"actorgen_core.{alias}").loader.__class__.__name__ == "_AliasLoader"  # type: ignore[union-attr]


def test_an_unknown_private_path_is_still_an_import_error() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("actorgen_core._no_such_module")


def test_from_import_works_in_a_fresh_interpreter() -> None:
    # The first import of actorgen_core installs the finder; a from-import of an alias must work
    # as the very first statement of a program.
    code = "from actorgen_core._serialization import SerializationRegistry; print(SerializationRegistry.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "SerializationRegistry"
