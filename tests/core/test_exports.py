"""The public surface of actorgen_core (like Trio's test_exports): every autogen_core 0.7 name
that actorgen promises is exported by the same package, each public class and function reports
that package as its ``__module__``, and nothing private leaks into any ``__all__``."""

from __future__ import annotations

import importlib
import importlib.resources
import inspect
import subprocess
import sys

import pytest

import actorgen_core
import actorgen_core.application
import actorgen_core.exceptions

from ..surface import assert_all_is_public, walk_modules

# The 55 names of autogen_core.__all__ (0.7.5), grouped as in the reference fact sheet §1.1.
AUTOGEN_CORE_TOP_LEVEL = [
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
    # logger-name constants
    "ROOT_LOGGER_NAME",
    "EVENT_LOGGER_NAME",
    "TRACE_LOGGER_NAME",
    # GenAI telemetry helpers
    "trace_create_agent_span",
    "trace_invoke_agent_span",
    "trace_tool_span",
]

# Names promised but not exported yet, each xfail(strict=True) so that the test turns red
# when the name lands and the entry must be removed. Empty: everything is exported.
NOT_YET_EXPORTED: dict[str, str] = {}


def _name_params() -> list[object]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=NOT_YET_EXPORTED[name]))
        if name in NOT_YET_EXPORTED
        else name
        for name in AUTOGEN_CORE_TOP_LEVEL
    ]


def test_the_reference_list_has_55_distinct_names() -> None:
    assert len(AUTOGEN_CORE_TOP_LEVEL) == 55
    assert len(set(AUTOGEN_CORE_TOP_LEVEL)) == 55


@pytest.mark.parametrize("name", _name_params())
def test_autogen_core_top_level_name_is_exported(name: str) -> None:
    assert name in actorgen_core.__all__
    assert getattr(actorgen_core, name) is not None


# Top-level names actorgen adds to autogen's surface. Additions so far live in submodules
# (actorgen_core.exceptions, ...), so that a star-import behaves exactly like autogen_core's;
# a new top-level name must be added here deliberately.
ACTORGEN_TOP_LEVEL_ADDITIONS: set[str] = set()


def test_top_level_all_is_the_autogen_surface_plus_deliberate_additions() -> None:
    exported = set(actorgen_core.__all__)
    assert len(actorgen_core.__all__) == len(exported), "duplicates in __all__"
    assert exported - set(AUTOGEN_CORE_TOP_LEVEL) == ACTORGEN_TOP_LEVEL_ADDITIONS


def test_top_level_constants() -> None:
    assert actorgen_core.ROOT_LOGGER_NAME == "actorgen_core"
    assert actorgen_core.EVENT_LOGGER_NAME == "actorgen_core.events"
    assert actorgen_core.TRACE_LOGGER_NAME == "actorgen_core.trace"
    assert actorgen_core.JSON_DATA_CONTENT_TYPE == "application/json"
    assert actorgen_core.PROTOBUF_DATA_CONTENT_TYPE == "application/x-protobuf"


def test_version_is_a_string() -> None:
    assert isinstance(actorgen_core.__version__, str)
    assert actorgen_core.__version__


def test_application_path_gives_the_same_class() -> None:
    assert actorgen_core.application.SingleThreadedAgentRuntime is actorgen_core.SingleThreadedAgentRuntime
    assert "SingleThreadedAgentRuntime" in actorgen_core.application.__all__


def test_top_level_names_are_the_base_and_component_objects() -> None:
    import actorgen_core.base as base
    import actorgen_core.components as components

    for name in base.__all__:
        if name in actorgen_core.__all__:
            assert getattr(actorgen_core, name) is getattr(base, name), name
    for name in components.__all__:
        if name in actorgen_core.__all__:
            assert getattr(actorgen_core, name) is getattr(components, name), name


# ---------------------------------------------------------------------------- AI component packages

SUBPACKAGES = {
    "actorgen_core.models": {
        "ModelCapabilities",
        "ChatCompletionClient",
        "SystemMessage",
        "UserMessage",
        "AssistantMessage",
        "FunctionExecutionResult",
        "FunctionExecutionResultMessage",
        "LLMMessage",
        "RequestUsage",
        "FinishReasons",
        "CreateResult",
        "TopLogprob",
        "ChatCompletionTokenLogprob",
        "ModelFamily",
        "ModelInfo",
        "validate_model_info",
    },
    "actorgen_core.tools": {
        "Tool",
        "StreamTool",
        "ToolSchema",
        "ParametersSchema",
        "BaseTool",
        "BaseToolWithState",
        "BaseStreamTool",
        "FunctionTool",
        "Workbench",
        "ToolResult",
        "TextResultContent",
        "ImageResultContent",
        "StaticWorkbench",
        "StaticStreamWorkbench",
        "ToolOverride",
    },
    "actorgen_core.memory": {
        "Memory",
        "MemoryContent",
        "MemoryQueryResult",
        "UpdateContextResult",
        "MemoryMimeType",
        "ListMemory",
    },
    "actorgen_core.model_context": {
        "ChatCompletionContext",
        "ChatCompletionContextState",
        "UnboundedChatCompletionContext",
        "BufferedChatCompletionContext",
        "TokenLimitedChatCompletionContext",
        "HeadAndTailChatCompletionContext",
    },
    "actorgen_core.code_executor": {
        "CodeBlock",
        "CodeExecutor",
        "CodeResult",
        "Alias",
        "ImportFromModule",
        "Import",
        "FunctionWithRequirements",
        "FunctionWithRequirementsStr",
        "with_requirements",
    },
    "actorgen_core.tool_agent": {
        "ToolAgent",
        "ToolException",
        "ToolNotFoundException",
        "InvalidToolArgumentsException",
        "ToolExecutionException",
        "tool_agent_caller_loop",
    },
    "actorgen_core.utils": {"schema_to_pydantic_model", "extract_json_from_str"},
}

# Deliberate additions, documented in docs/components.md.
SUBPACKAGE_ADDITIONS = {
    "actorgen_core.tools": {"allow_function_tool_source"},
    "actorgen_core.code_executor": {"build_python_functions_file", "to_stub"},
}


@pytest.mark.parametrize("module_name", sorted(SUBPACKAGES))
def test_subpackage_exports_exactly_the_promised_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = set(module.__all__)
    assert exported == SUBPACKAGES[module_name] | SUBPACKAGE_ADDITIONS.get(module_name, set())
    assert len(module.__all__) == len(exported), "duplicates in __all__"
    for name in exported:
        assert not name.startswith("_")
        assert getattr(module, name) is not None


# ---------------------------------------------------------------------------- exceptions

AUTOGEN_EXCEPTIONS = ["CantHandleException", "UndeliverableException", "MessageDroppedException", "NotAccessibleError"]
ACTORGEN_EXCEPTIONS = ["RequestTimeoutError", "RuntimeStoppedError", "AgentNotFoundError"]


def test_exceptions_all() -> None:
    assert actorgen_core.exceptions.__all__ == AUTOGEN_EXCEPTIONS + ACTORGEN_EXCEPTIONS


@pytest.mark.parametrize("name", AUTOGEN_EXCEPTIONS)
def test_autogen_exceptions_are_direct_exception_subclasses(name: str) -> None:
    cls = getattr(actorgen_core.exceptions, name)
    assert cls.__bases__ == (Exception,)


def test_actorgen_exception_hierarchy() -> None:
    e = actorgen_core.exceptions
    assert issubclass(e.RequestTimeoutError, TimeoutError)
    assert issubclass(e.RuntimeStoppedError, e.UndeliverableException)
    assert issubclass(e.AgentNotFoundError, e.UndeliverableException)
    assert issubclass(e.AgentNotFoundError, LookupError)


@pytest.mark.parametrize("name", AUTOGEN_EXCEPTIONS + ACTORGEN_EXCEPTIONS)
def test_exceptions_are_the_base_layer_classes(name: str) -> None:
    import actorgen_core.base.exceptions as base_exceptions

    assert getattr(actorgen_core.exceptions, name) is getattr(base_exceptions, name)


# ---------------------------------------------------------------------------- every __all__


@pytest.mark.parametrize("module_name", walk_modules("actorgen_core"))
def test_no_private_name_in_all(module_name: str) -> None:
    assert_all_is_public(module_name)


def test_the_module_walk_finds_the_layers() -> None:
    modules = walk_modules("actorgen_core")
    assert "actorgen_core.base._serialization" in modules
    assert "actorgen_core.models._types" in modules
    assert "actorgen_core.application._single_threaded_agent_runtime" in modules


# ---------------------------------------------------------------------------- __module__

PUBLIC_PACKAGES = [
    "actorgen_core",
    "actorgen_core.exceptions",
    "actorgen_core.logging",
    "actorgen_core.models",
    "actorgen_core.tools",
    "actorgen_core.model_context",
    "actorgen_core.memory",
    "actorgen_core.code_executor",
    "actorgen_core.tool_agent",
    "actorgen_core.utils",
]


@pytest.mark.parametrize("package", PUBLIC_PACKAGES)
def test_exported_classes_and_functions_report_their_public_package(package: str) -> None:
    module = importlib.import_module(package)
    reported = {
        name: obj.__module__
        for name in module.__all__
        if isinstance(obj := getattr(module, name), type) or inspect.isfunction(obj)
    }
    assert reported, package
    assert {name: m for name, m in reported.items() if m != package} == {}


def test_names_of_two_public_packages_report_the_top_level() -> None:
    import actorgen_core.components as components

    for name in components.__all__:
        expected = "actorgen_core" if name in actorgen_core.__all__ else "actorgen_core.components"
        assert getattr(components, name).__module__ == expected, name


def test_public_module_does_not_depend_on_import_order() -> None:
    # A program that imports the event classes from the base layer first still sees them
    # under actorgen_core.logging, and exceptions under actorgen_core.exceptions.
    code = (
        "from actorgen_core.base import LLMCallEvent;"
        "from actorgen_core.base.exceptions import CantHandleException;"
        "print(LLMCallEvent.__module__, CantHandleException.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["actorgen_core.logging", "actorgen_core.exceptions"]


def test_repr_and_provider_show_the_public_path() -> None:
    from actorgen_core.base._component_config import _type_to_provider_str
    from actorgen_core.models import ChatCompletionClient, CreateResult
    from actorgen_core.tools import BaseTool

    assert ChatCompletionClient.__module__ == "actorgen_core.models"
    assert repr(CreateResult) == "<class 'actorgen_core.models.CreateResult'>"
    assert repr(actorgen_core.AgentId) == "<class 'actorgen_core.AgentId'>"
    # A component without a provider override dumps under its public path.
    assert _type_to_provider_str(BaseTool) == "actorgen_core.tools.BaseTool"


def test_public_module_survives_pydantic_and_dataclass_use() -> None:
    # Moving __module__ must not break what resolves annotations through the module:
    # pydantic schemas and dataclass serialization of the exported types.
    from actorgen_core import FunctionCall, try_get_known_serializers_for_type
    from actorgen_core.code_executor import ImportFromModule
    from actorgen_core.model_context import ChatCompletionContextState
    from actorgen_core.models import AssistantMessage, RequestUsage

    message = AssistantMessage(content=[FunctionCall(id="1", name="f", arguments="{}")], source="a")
    assert AssistantMessage.model_validate_json(message.model_dump_json()) == message
    assert "AssistantMessage" in ChatCompletionContextState.model_json_schema()["$defs"]
    serializer = try_get_known_serializers_for_type(RequestUsage)[0]
    usage = RequestUsage(prompt_tokens=1, completion_tokens=2)
    assert serializer.deserialize(serializer.serialize(usage)) == usage
    assert ImportFromModule("os", ["path"]).imports == ("path",)


# ---------------------------------------------------------------------------- py.typed


def test_package_has_py_typed() -> None:
    assert importlib.resources.files("actorgen_core").joinpath("py.typed").is_file()
