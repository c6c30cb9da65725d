"""Translation between actorgen's model types and the chat-completions JSON format.

Requests: messages, tools, tool_choice and response formats. Responses: completions and
stream chunks into :class:`CreateResult`. Also the token estimate behind ``count_tokens``.
Nothing here does I/O.
"""

from __future__ import annotations

import copy
import json
import math
import re
import struct
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from actorgen_core import FunctionCall, Image
from actorgen_core.models import (
    AssistantMessage,
    ChatCompletionTokenLogprob,
    FinishReasons,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelFamily,
    ModelInfo,
    SystemMessage,
    TopLogprob,
    UserMessage,
)
from actorgen_core.tools import Tool, ToolSchema

__all__ = [
    "to_wire_messages",
    "to_wire_tools",
    "to_wire_tool_choice",
    "json_schema_response_format",
    "finish_reason",
    "parse_logprobs",
    "split_think",
    "tool_call_to_function_call",
    "StreamAccumulator",
    "estimate_tokens",
]

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_UNSAFE_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


# -- requests -------------------------------------------------------------------------------


def _wire_name(source: str) -> str:
    """OpenAI accepts ``name`` only as ``[a-zA-Z0-9_-]{1,64}``; other characters become ``_``."""
    return _UNSAFE_NAME_CHARS.sub("_", source)[:64] or "_"


def _user_content(
    message: UserMessage, *, vision: bool, model: str, add_name_prefixes: bool
) -> str | list[dict[str, Any]]:
    prefix = f"{message.source} said:\n" if add_name_prefixes else ""
    if isinstance(message.content, str):
        return prefix + message.content
    parts: list[dict[str, Any]] = []
    if prefix:
        parts.append({"type": "text", "text": prefix})
    for item in message.content:
        if isinstance(item, str):
            parts.append({"type": "text", "text": item})
        elif isinstance(item, Image):
            if not vision:
                raise ValueError(
                    f"Model {model!r} does not support vision (model_info['vision'] is False), "
                    "but a message contains an image"
                )
            parts.append({"type": "image_url", "image_url": {"url": item.data_uri, "detail": "auto"}})
        else:
            raise TypeError(f"Unsupported item in UserMessage content: {type(item).__name__}")
    return parts


def to_wire_messages(
    messages: Sequence[LLMMessage],
    *,
    model: str,
    model_info: ModelInfo,
    add_name_prefixes: bool = False,
    include_name_in_message: bool = True,
) -> list[dict[str, Any]]:
    """The ``messages`` array of a request.

    When ``model_info["multiple_system_messages"]`` is False, all system messages are merged
    (joined by a blank line) into one at the position of the first.
    """
    vision = model_info["vision"]
    wire: list[dict[str, Any]] = []
    merge_system = model_info.get("multiple_system_messages") is False
    system_index: int | None = None
    for message in messages:
        if isinstance(message, SystemMessage):
            if merge_system and system_index is not None:
                wire[system_index]["content"] += "\n\n" + message.content
                continue
            system_index = len(wire)
            wire.append({"role": "system", "content": message.content})
        elif isinstance(message, UserMessage):
            entry: dict[str, Any] = {
                "role": "user",
                "content": _user_content(message, vision=vision, model=model, add_name_prefixes=add_name_prefixes),
            }
            if include_name_in_message:
                entry["name"] = _wire_name(message.source)
            wire.append(entry)
        elif isinstance(message, AssistantMessage):
            entry = {"role": "assistant"}
            if isinstance(message.content, str):
                entry["content"] = message.content
            else:
                # The thought that accompanied the calls goes back as the message text.
                if message.thought:
                    entry["content"] = message.thought
                entry["tool_calls"] = [
                    {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                    for call in message.content
                ]
            if include_name_in_message:
                entry["name"] = _wire_name(message.source)
            wire.append(entry)
        elif isinstance(message, FunctionExecutionResultMessage):
            for result in message.content:
                wire.append({"role": "tool", "content": result.content, "tool_call_id": result.call_id})
        else:
            raise TypeError(f"Unsupported message type: {type(message).__name__}")
    return wire


def _schema_of(tool: Tool | ToolSchema) -> ToolSchema:
    if isinstance(tool, Mapping):
        return tool
    return tool.schema


def to_wire_tools(tools: Sequence[Tool | ToolSchema]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = []
    for tool in tools:
        schema = _schema_of(tool)
        name = schema["name"]
        if not _TOOL_NAME.match(name):
            raise ValueError(f"Tool name {name!r} is invalid: it must match {_TOOL_NAME.pattern}")
        function: dict[str, Any] = {
            "name": name,
            "description": schema.get("description", ""),
            "parameters": dict(schema.get("parameters") or {"type": "object", "properties": {}}),
        }
        if "strict" in schema:
            function["strict"] = schema["strict"]
        wire.append({"type": "function", "function": function})
    return wire


def to_wire_tool_choice(
    tool_choice: Tool | Literal["auto", "required", "none"], tools: Sequence[Tool | ToolSchema]
) -> str | dict[str, Any]:
    if isinstance(tool_choice, str):
        if tool_choice not in ("auto", "required", "none"):
            raise ValueError(f"tool_choice must be 'auto', 'required', 'none' or a Tool, got {tool_choice!r}")
        return tool_choice
    name = tool_choice.schema["name"]
    if name not in {_schema_of(tool)["name"] for tool in tools}:
        raise ValueError(f"tool_choice names tool {name!r}, which is not among the tools of this request")
    return {"type": "function", "function": {"name": name}}


def _strict(node: Any) -> Any:
    """Make a JSON schema acceptable to strict structured output: closed objects, all keys required."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _strict(value) for key, value in node.items() if key != "default"}
    if result.get("type") == "object" or "properties" in result:
        properties = result.get("properties", {})
        result["additionalProperties"] = False
        result["required"] = list(properties)
    return result


def json_schema_response_format(model: type[BaseModel]) -> dict[str, Any]:
    """``response_format`` asking for output that validates against ``model``.

    The pydantic schema is made strict (every object closed, every property required,
    defaults dropped) as OpenAI's strict mode demands; the caller validates the returned
    JSON text against ``model`` as usual.
    """
    schema = _strict(copy.deepcopy(model.model_json_schema()))
    return {
        "type": "json_schema",
        "json_schema": {"name": _wire_name(model.__name__), "schema": schema, "strict": True},
    }


# -- responses ------------------------------------------------------------------------------


def finish_reason(raw: Any, *, has_tool_calls: bool) -> FinishReasons:
    if has_tool_calls:
        # Some servers (Ollama among them) report "stop" alongside tool calls.
        return "function_calls"
    if raw in ("stop", "length", "content_filter"):
        return raw  # type: ignore[no-any-return]
    if raw in ("tool_calls", "function_call"):
        return "function_calls"
    return "unknown"


def tool_call_to_function_call(raw: Mapping[str, Any]) -> FunctionCall:
    function = raw.get("function") or {}
    arguments = function.get("arguments", "")
    if not isinstance(arguments, str):  # a few servers send an object instead of JSON text
        arguments = json.dumps(arguments)
    call_id = raw.get("id") or f"call_{uuid.uuid4().hex[:24]}"  # llama.cpp may omit ids
    return FunctionCall(id=str(call_id), arguments=arguments, name=str(function.get("name", "")))


def parse_logprobs(raw: Any) -> list[ChatCompletionTokenLogprob] | None:
    if not isinstance(raw, Mapping):
        return None
    content = raw.get("content")
    if not isinstance(content, list):
        return None
    result: list[ChatCompletionTokenLogprob] = []
    for item in content:
        tops = item.get("top_logprobs")
        result.append(
            ChatCompletionTokenLogprob(
                token=item.get("token", ""),
                logprob=item.get("logprob", 0.0),
                top_logprobs=[TopLogprob(logprob=t.get("logprob", 0.0), bytes=t.get("bytes")) for t in tops]
                if isinstance(tops, list)
                else None,
                bytes=item.get("bytes"),
            )
        )
    return result


_THINK = re.compile(r"^\s*<think>(.*?)</think>\s*", re.DOTALL)


def split_think(content: str) -> tuple[str | None, str]:
    """(thought, rest) from a leading ``<think>...</think>`` block (R1-style models)."""
    match = _THINK.match(content)
    if match is None:
        return None, content
    return match.group(1).strip(), content[match.end() :]


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class StreamAccumulator:
    """Folds stream chunks into the pieces of the final :class:`CreateResult`."""

    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    raw_finish_reason: Any = None
    usage: Mapping[str, Any] | None = None
    logprobs: list[ChatCompletionTokenLogprob] | None = None
    model: str | None = None

    def add(self, chunk: Mapping[str, Any]) -> str | None:
        """Take one chunk; return its new text, if any."""
        if isinstance(chunk.get("usage"), Mapping):
            self.usage = chunk["usage"]
        if isinstance(chunk.get("model"), str):
            self.model = chunk["model"]
        choices = chunk.get("choices") or []
        if not choices:
            return None
        choice = choices[0]
        if choice.get("finish_reason") is not None:
            self.raw_finish_reason = choice["finish_reason"]
        # A server that ignored stream=true sends a whole "message" instead of a "delta".
        delta = choice.get("delta") or choice.get("message") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            self.reasoning.append(reasoning)
        for position, raw_call in enumerate(delta.get("tool_calls") or []):
            index = raw_call.get("index", len(self.calls) if raw_call.get("id") else position)
            partial = self.calls.setdefault(index, _PartialCall())
            if raw_call.get("id"):
                partial.id = raw_call["id"]
            function = raw_call.get("function") or {}
            if function.get("name"):
                partial.name += function["name"]
            arguments = function.get("arguments")
            if arguments:
                partial.arguments += arguments if isinstance(arguments, str) else json.dumps(arguments)
        logprobs = parse_logprobs(choice.get("logprobs"))
        if logprobs:
            self.logprobs = (self.logprobs or []) + logprobs
        content = delta.get("content")
        if isinstance(content, str) and content:
            self.text.append(content)
            return content
        return None

    def function_calls(self) -> list[FunctionCall]:
        return [
            tool_call_to_function_call({"id": call.id, "function": {"name": call.name, "arguments": call.arguments}})
            for _, call in sorted(self.calls.items())
        ]


# -- token estimate -------------------------------------------------------------------------

CHARS_PER_TOKEN = 4
"""OpenAI's rule of thumb for English text; the estimate is only as good as that rule."""
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_NAME = 1
_TOKENS_FOR_REPLY = 3
_TOKENS_PER_TOOL = 8


def _text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF or JPEG header, without decoding the image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        offset = 2
        while offset + 9 < len(data):
            if data[offset] != 0xFF:
                return None
            marker = data[offset + 1]
            (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
                return int(width), int(height)
            offset += 2 + int(length)
    return None


def _image_tokens(image: Image) -> int:
    """OpenAI's published cost of an image at ``detail: auto/high``: 85 + 170 per 512-px tile."""
    size = _image_size(image.data)
    if size is None:
        return 85 + 170 * 4  # a 1024x1024 image: a middle-of-the-road guess
    width, height = float(size[0]), float(size[1])
    if max(width, height) > 2048:
        scale = 2048 / max(width, height)
        width, height = width * scale, height * scale
    if min(width, height) > 768:
        scale = 768 / min(width, height)
        width, height = width * scale, height * scale
    tiles = math.ceil(width / 512) * math.ceil(height / 512)
    return 85 + 170 * tiles


def estimate_tokens(
    wire_messages: Sequence[Mapping[str, Any]], images: Sequence[Image], wire_tools: Sequence[Mapping[str, Any]]
) -> int:
    """An estimate of the prompt tokens of a request (see :data:`CHARS_PER_TOKEN`)."""
    total = _TOKENS_FOR_REPLY
    for message in wire_messages:
        total += _TOKENS_PER_MESSAGE
        content = message.get("content")
        if isinstance(content, str):
            total += _text_tokens(content)
        elif isinstance(content, list):
            total += sum(_text_tokens(part.get("text", "")) for part in content if part.get("type") == "text")
        if "name" in message:
            total += _TOKENS_PER_NAME + _text_tokens(message["name"])
        for call in message.get("tool_calls") or []:
            total += _text_tokens(call["function"]["name"]) + _text_tokens(call["function"]["arguments"])
    total += sum(_image_tokens(image) for image in images)
    for tool in wire_tools:
        total += _TOKENS_PER_TOOL + _text_tokens(json.dumps(tool["function"], separators=(",", ":")))
    return total


def family_uses_think_tags(family: str) -> bool:
    return family == ModelFamily.R1
