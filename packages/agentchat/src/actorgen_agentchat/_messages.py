"""v0.2's message dicts: normalising them, reading their text, and turning a history into a model request."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from actorgen_core import FunctionCall
from actorgen_core.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)

Message = dict[str, Any]

# The keys a stored message keeps (everything else a caller put in the dict is dropped).
_KEPT_KEYS = ("content", "function_call", "tool_calls", "tool_responses", "tool_call_id", "name", "context")


def content_str(content: Any) -> str:
    """The text of a message's content: a str as is, multimodal parts joined, None as ""."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            elif isinstance(part, dict) and part.get("type") == "image_url":
                parts.append("<image>")
            else:
                parts.append(str(part))
        return "\n".join(parts)
    return str(content)


def normalize(message: str | Message, *, role: str, author: str) -> Message:
    """The dict stored in a history: ``role`` is "assistant" for own messages and "user" for
    a peer's; tool results keep role "tool"; a message with tool calls is always "assistant".

    Raises ValueError for a message with neither content nor a tool or function call.
    """
    source: Message = {"content": message} if isinstance(message, str) else dict(message)
    stored: Message = {key: source[key] for key in _KEPT_KEYS if source.get(key) is not None}
    if "content" not in stored:
        if "function_call" not in stored and "tool_calls" not in stored:
            raise ValueError(f"A message needs 'content', 'tool_calls' or 'function_call'; got keys {sorted(source)}")
        stored["content"] = None
    given_role = source.get("role")
    if given_role in ("tool", "function"):
        stored["role"] = given_role
    elif source.get("override_role"):
        stored["role"] = source["override_role"]
    else:
        stored["role"] = role
    if "function_call" in stored or "tool_calls" in stored:
        stored["role"] = "assistant"
    stored.setdefault("name", author)
    return stored


def is_valid_message(message: Any) -> bool:
    if isinstance(message, str):
        return True
    if not isinstance(message, dict):
        return False
    return message.get("content") is not None or bool(message.get("tool_calls")) or bool(message.get("function_call"))


def _calls_by_id(history: Sequence[Message]) -> dict[str, str]:
    names: dict[str, str] = {}
    for message in history:
        for call in message.get("tool_calls") or []:
            names[str(call.get("id", ""))] = str(call.get("function", {}).get("name", ""))
    return names


def to_llm_messages(system_message: str, history: Sequence[Message], own_name: str) -> list[LLMMessage]:
    """The model request of an agent: its system message, then its history as it saw it.

    Its own messages are the assistant's; everyone else's are the user's, under the author's
    name. Tool results (``tool_responses``) are unrolled into one result per call; a message
    that carried results next to text (a human who interrupted tool calls) keeps its text too.
    """
    result: list[LLMMessage] = []
    if system_message:
        result.append(SystemMessage(content=system_message))
    call_names = _calls_by_id(history)
    for message in history:
        role = message.get("role", "user")
        name = str(message.get("name") or ("user" if role == "user" else own_name))
        content = message.get("content")
        if role == "system":
            result.append(SystemMessage(content=content_str(content)))
            continue
        responses = message.get("tool_responses")
        if responses:
            results = [
                FunctionExecutionResult(
                    content=content_str(response.get("content")),
                    name=call_names.get(str(response.get("tool_call_id", "")), ""),
                    call_id=str(response.get("tool_call_id", "")),
                )
                for response in responses
            ]
            result.append(FunctionExecutionResultMessage(content=results))
            if role != "tool" and content:
                result.append(UserMessage(content=content_str(content), source=name))
            continue
        if role in ("tool", "function"):
            call_id = str(message.get("tool_call_id", ""))
            result.append(
                FunctionExecutionResultMessage(
                    content=[
                        FunctionExecutionResult(
                            content=content_str(content), name=call_names.get(call_id, name), call_id=call_id
                        )
                    ]
                )
            )
            continue
        tool_calls = message.get("tool_calls")
        if tool_calls:
            calls = [
                FunctionCall(
                    id=str(call.get("id", "")),
                    name=str(call.get("function", {}).get("name", "")),
                    arguments=str(call.get("function", {}).get("arguments", "{}")),
                )
                for call in tool_calls
            ]
            result.append(AssistantMessage(content=calls, thought=content_str(content) or None, source=name))
            continue
        if role == "assistant":
            result.append(AssistantMessage(content=content_str(content), source=name))
        else:
            result.append(UserMessage(content=content_str(content), source=name))
    return result


def reply_from_result(result: CreateResult) -> str | Message:
    """A model's answer as v0.2 returns it: the text, or an assistant dict with ``tool_calls``."""
    if isinstance(result.content, str):
        return result.content
    return {
        "role": "assistant",
        "content": result.thought,
        "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in result.content
        ],
    }


def render(message: Message, sender: str, recipient: str) -> str:
    """One transcript entry as printed: who spoke to whom, then the text, calls and results."""
    lines = [f"{sender} → {recipient}:"]
    content = message.get("content")
    responses = message.get("tool_responses")
    if responses:
        for response in responses:
            lines.append(f"[tool result {response.get('tool_call_id', '')}] {content_str(response.get('content'))}")
    elif content is not None and content != "":
        lines.append(content_str(content))
    for call in message.get("tool_calls") or []:
        function = call.get("function", {})
        lines.append(f"[tool call {call.get('id', '')}] {function.get('name')}({function.get('arguments')})")
    if message.get("function_call"):
        function = message["function_call"]
        lines.append(f"[function call] {function.get('name')}({function.get('arguments')})")
    lines.append("-" * 72)
    return "\n".join(lines)


def dumps(value: Any) -> str:
    """A tool's result as text: str unchanged, pydantic models as their JSON, anything else as JSON."""
    if isinstance(value, str):
        return value
    dump = getattr(value, "model_dump_json", None)
    if callable(dump):
        return str(dump())
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)
