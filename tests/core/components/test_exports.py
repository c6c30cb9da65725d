"""The public surface of the component packages: every autogen_core 0.7 name, nothing private."""

import importlib

import pytest

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


@pytest.mark.parametrize("module_name", sorted(PROMISED))
def test_module_exports_exactly_the_promised_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = set(module.__all__)
    assert exported == PROMISED[module_name] | ADDITIONS.get(module_name, set())
    assert len(module.__all__) == len(exported), "duplicates in __all__"
    for name in exported:
        assert not name.startswith("_")
        assert getattr(module, name) is not None
