import warnings
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from actorgen_core import FunctionCall, Image
from actorgen_core.models import (
    AssistantMessage,
    ChatCompletionTokenLogprob,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelFamily,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    TopLogprob,
    UserMessage,
    validate_model_info,
)

PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def test_validate_model_info_accepts_full_info() -> None:
    info = ModelInfo(vision=True, function_calling=True, json_output=False, family="gpt-4o", structured_output=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_model_info(info)


@pytest.mark.parametrize("missing", ["vision", "function_calling", "json_output", "family"])
def test_validate_model_info_names_the_missing_key(missing: str) -> None:
    info: dict[str, Any] = {
        "vision": True,
        "function_calling": True,
        "json_output": False,
        "family": "x",
        "structured_output": False,
    }
    del info[missing]
    with pytest.raises(ValueError, match=missing):
        validate_model_info(info)  # type: ignore[arg-type]


def test_validate_model_info_warns_without_structured_output() -> None:
    with pytest.warns(UserWarning, match="structured_output"):
        validate_model_info({"vision": True, "function_calling": True, "json_output": False, "family": "x"})  # type: ignore[typeddict-item]


def test_model_family_helpers() -> None:
    assert ModelFamily.is_openai(ModelFamily.GPT_4O)
    assert ModelFamily.is_openai("o3")
    assert not ModelFamily.is_openai(ModelFamily.R1)
    assert ModelFamily.is_claude("claude-3-5-sonnet")
    assert not ModelFamily.is_claude("gpt-4")
    assert ModelFamily.is_gemini("gemini-2.5-pro")
    assert ModelFamily.is_llama("llama-4-scout")
    assert ModelFamily.is_mistral("pixtral")
    assert ModelFamily.is_mistral("codestral")
    assert not ModelFamily.is_mistral("claude-4-opus")
    assert not ModelFamily.is_gemini("unknown")


def test_model_family_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError):
        ModelFamily()


def test_llm_message_union_round_trip() -> None:
    adapter = TypeAdapter(list[LLMMessage])
    messages: list[LLMMessage] = [
        SystemMessage(content="be brief"),
        UserMessage(content=["look", Image.from_base64(PNG_1X1)], source="user"),
        AssistantMessage(content=[FunctionCall(id="1", arguments='{"x": 1}', name="f")], thought="hm", source="a"),
        FunctionExecutionResultMessage(
            content=[FunctionExecutionResult(content="2", name="f", call_id="1", is_error=False)]
        ),
        AssistantMessage(content="done", source="a"),
    ]
    data = adapter.dump_json(messages)
    restored = adapter.validate_json(data)
    assert [type(m) for m in restored] == [
        SystemMessage,
        UserMessage,
        AssistantMessage,
        FunctionExecutionResultMessage,
        AssistantMessage,
    ]
    assert restored == messages
    user = restored[1]
    assert isinstance(user, UserMessage) and isinstance(user.content[1], Image)
    assistant = restored[2]
    assert isinstance(assistant, AssistantMessage)
    assert assistant.content == [FunctionCall(id="1", arguments='{"x": 1}', name="f")]


def test_llm_message_rejects_unknown_type() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(LLMMessage).validate_python({"type": "ToolMessage", "content": "x"})
    with pytest.raises(ValidationError):
        TypeAdapter(LLMMessage).validate_python({"type": "UserMessage", "content": "x"})  # no source


def test_create_result_round_trip() -> None:
    result = CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id="c", arguments="{}", name="t")],
        usage=RequestUsage(prompt_tokens=3, completion_tokens=4),
        cached=False,
        logprobs=[ChatCompletionTokenLogprob(token="a", logprob=-0.1, top_logprobs=[TopLogprob(logprob=-0.2)])],
    )
    assert CreateResult.model_validate_json(result.model_dump_json()) == result
    with pytest.raises(ValidationError):
        CreateResult(finish_reason="bored", content="x", usage=RequestUsage(0, 0), cached=False)  # type: ignore[arg-type]
