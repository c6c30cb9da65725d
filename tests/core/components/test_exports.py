"""The public surface of the component packages: every autogen_core 0.7 name, nothing private."""

import importlib

import pytest

import actorgen_core

PROMISED = {
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
ADDITIONS = {"actorgen_core.tools": {"allow_function_tool_source"}}

TOP_LEVEL = {
    "FunctionCall",
    "Image",
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
    "CacheStore",
    "InMemoryStore",
}


@pytest.mark.parametrize("module_name", sorted(PROMISED))
def test_module_exports_exactly_the_promised_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = set(module.__all__)
    assert exported == PROMISED[module_name] | ADDITIONS.get(module_name, set())
    assert len(module.__all__) == len(exported), "duplicates in __all__"
    for name in exported:
        assert not name.startswith("_")
        assert getattr(module, name) is not None


def test_top_level_component_names() -> None:
    assert TOP_LEVEL <= set(actorgen_core.__all__)
    for name in TOP_LEVEL:
        assert getattr(actorgen_core, name) is not None


@pytest.mark.parametrize(
    ("module_name", "name"),
    [
        ("actorgen_core.models._model_client", "ModelFamily"),
        ("actorgen_core.models._model_client", "ModelInfo"),
        ("actorgen_core.tools._base", "ToolSchema"),
        ("actorgen_core.code_executor._func_with_reqs", "build_python_functions_file"),
        ("actorgen_core.utils._json_to_pydantic", "_JSONSchemaToPydantic"),
        ("actorgen_core.utils._json_to_pydantic", "FORMAT_MAPPING"),
        ("actorgen_core._component_config", "_get_trusted_namespaces"),
        ("actorgen_core._function_utils", "get_typed_signature"),
    ],
)
def test_semi_private_import_paths_exist(module_name: str, name: str) -> None:
    assert hasattr(importlib.import_module(module_name), name)
