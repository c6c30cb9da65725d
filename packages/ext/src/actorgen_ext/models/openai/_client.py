"""``OpenAIChatCompletionClient``: chat completions from OpenAI or any server that speaks its API."""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal, Required, Self, TypedDict, TypeGuard, Unpack, cast

from pydantic import BaseModel, SecretStr

from actorgen_core import EVENT_LOGGER_NAME, CancellationToken, Component, Image
from actorgen_core.logging import LLMCallEvent, LLMStreamEndEvent, LLMStreamStartEvent
from actorgen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelCapabilities,
    ModelInfo,
    RequestUsage,
    UserMessage,
    validate_model_info,
)
from actorgen_core.tools import Tool, ToolSchema

from . import _model_info
from ._errors import APIResponseValidationError, OpenAIError
from ._http import ChatCompletionsHTTP
from ._retry import RetryPolicy
from ._wire import (
    StreamAccumulator,
    estimate_tokens,
    family_uses_think_tags,
    finish_reason,
    json_schema_response_format,
    parse_logprobs,
    split_think,
    to_wire_messages,
    to_wire_tool_choice,
    to_wire_tools,
    tool_call_to_function_call,
)

__all__ = [
    "BaseOpenAIChatCompletionClient",
    "OpenAIChatCompletionClient",
    "CreateArguments",
    "OpenAIClientConfiguration",
    "CreateArgumentsConfigModel",
    "BaseOpenAIClientConfigurationConfigModel",
    "OpenAIClientConfigurationConfigModel",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
]

logger = logging.getLogger("actorgen_ext.models.openai")
event_logger = logging.getLogger(EVENT_LOGGER_NAME)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = 600.0
"""Seconds per attempt. Long, because a local model on a CPU can take minutes for one answer."""
DEFAULT_MAX_RETRIES = 2

_MASKED_SECRET = "**********"  # what pydantic writes for a SecretStr in JSON

# Request keys the client owns; passing them through extra_create_args would break parsing.
_DISALLOWED_EXTRA_ARGS = frozenset({"messages", "stream", "tools", "tool_choice", "functions", "function_call", "n"})


_RESPONSE_FORMAT_CLASS_DEPRECATED = (
    "response_format=<pydantic model class> is deprecated: pass json_output=<the class> to create() or "
    "create_stream() instead (it is treated as that)"
)


def _is_model_class(value: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(value, type) and issubclass(value, BaseModel)


class CreateArguments(TypedDict, total=False):
    """Request parameters that can be set on the client (and overridden per call)."""

    frequency_penalty: float | None
    logit_bias: dict[str, int] | None
    max_tokens: int | None
    max_completion_tokens: int | None
    n: int | None
    presence_penalty: float | None
    response_format: dict[str, Any] | type[BaseModel] | None  # a class: deprecated spelling of json_output
    seed: int | None
    stop: str | list[str] | None
    temperature: float | None
    top_p: float | None
    user: str | None
    stream_options: dict[str, Any] | None
    parallel_tool_calls: bool | None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None


class OpenAIClientConfiguration(CreateArguments, total=False):
    """The keyword arguments of :class:`OpenAIChatCompletionClient`."""

    model: Required[str]
    api_key: str
    base_url: str
    organization: str
    timeout: float | None
    max_retries: int | None
    model_info: ModelInfo
    model_capabilities: ModelCapabilities  # deprecated: use model_info
    add_name_prefixes: bool
    include_name_in_message: bool
    default_headers: dict[str, str] | None


_CREATE_ARG_NAMES = frozenset(CreateArguments.__annotations__) | {"model"}


class CreateArgumentsConfigModel(BaseModel):
    frequency_penalty: float | None = None
    logit_bias: dict[str, int] | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int | None = None
    presence_penalty: float | None = None
    response_format: dict[str, Any] | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    temperature: float | None = None
    top_p: float | None = None
    user: str | None = None
    stream_options: dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None


class BaseOpenAIClientConfigurationConfigModel(CreateArgumentsConfigModel):
    model: str
    api_key: SecretStr | None = None
    """Present only when the key was passed to the constructor; JSON shows it as ``**********``."""
    timeout: float | None = None
    max_retries: int | None = None
    model_capabilities: ModelCapabilities | None = None
    model_info: ModelInfo | None = None
    add_name_prefixes: bool | None = None
    include_name_in_message: bool | None = None
    default_headers: dict[str, str] | None = None


class OpenAIClientConfigurationConfigModel(BaseOpenAIClientConfigurationConfigModel):
    organization: str | None = None
    base_url: str | None = None


def _add_usage(a: RequestUsage, b: RequestUsage) -> RequestUsage:
    return RequestUsage(
        prompt_tokens=a.prompt_tokens + b.prompt_tokens, completion_tokens=a.completion_tokens + b.completion_tokens
    )


def _usage_from(raw: Any) -> RequestUsage:
    if not isinstance(raw, Mapping):
        return RequestUsage(prompt_tokens=0, completion_tokens=0)
    return RequestUsage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0), completion_tokens=int(raw.get("completion_tokens") or 0)
    )


def _images_in(messages: Sequence[LLMMessage]) -> list[Image]:
    return [
        item
        for message in messages
        if isinstance(message, UserMessage) and not isinstance(message.content, str)
        for item in message.content
        if isinstance(item, Image)
    ]


def _json_output_from_response_format(
    body: dict[str, Any], json_output: bool | type[BaseModel] | None
) -> bool | type[BaseModel] | None:
    """Turn a pydantic class given as ``response_format`` into ``json_output`` (removing it from the body).

    Raises:
        ValueError: ``json_output`` is a pydantic class too; which one is meant is not ours to guess.
    """
    response_format = body.get("response_format")
    if not _is_model_class(response_format):
        return json_output
    del body["response_format"]
    if _is_model_class(json_output):
        raise ValueError(
            f"Structured output is given twice: json_output={json_output.__name__} and "
            f"response_format={response_format.__name__}; pass the class as json_output only"
        )
    if json_output is False:
        return False
    return response_format


class BaseOpenAIChatCompletionClient(ChatCompletionClient):
    """The chat-completions protocol over an :class:`ChatCompletionsHTTP` transport.

    Subclasses decide how the transport is configured; see :class:`OpenAIChatCompletionClient`.
    """

    def __init__(
        self,
        http: ChatCompletionsHTTP,
        *,
        create_args: Mapping[str, Any],
        model_info: ModelInfo,
        add_name_prefixes: bool = False,
        include_name_in_message: bool = True,
    ) -> None:
        if "model" not in create_args:
            raise ValueError("create_args must contain 'model'")
        validate_model_info(model_info)
        if _is_model_class(create_args.get("response_format")):
            # AutoGen's model-client guides write it this way; autogen_ext accepts it as a
            # deprecated spelling of json_output, so do we (it used to fail at send time).
            warnings.warn(_RESPONSE_FORMAT_CLASS_DEPRECATED, DeprecationWarning, stacklevel=3)
        self._http = http
        self._create_args = dict(create_args)
        self._model_info = model_info
        self._add_name_prefixes = add_name_prefixes
        self._include_name_in_message = include_name_in_message
        self._total_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._actual_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self._create_args['model']!r}, base_url={self._http.base_url!r})"

    # -- request building --------------------------------------------------------------------

    def _wire_messages(
        self, messages: Sequence[LLMMessage], *, model_info: ModelInfo | None = None
    ) -> list[dict[str, Any]]:
        return to_wire_messages(
            messages,
            model=str(self._create_args["model"]),
            model_info=model_info or self._model_info,
            add_name_prefixes=self._add_name_prefixes,
            include_name_in_message=self._include_name_in_message,
        )

    def _request_body(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
    ) -> dict[str, Any]:
        forbidden = _DISALLOWED_EXTRA_ARGS & set(extra_create_args)
        if forbidden:
            raise ValueError(f"extra_create_args may not set {sorted(forbidden)}: the client sets them itself")
        model = self._create_args["model"]
        body: dict[str, Any] = {k: v for k, v in self._create_args.items() if v is not None}
        extra = dict(extra_create_args)
        if _is_model_class(extra.get("response_format")):
            warnings.warn(_RESPONSE_FORMAT_CLASS_DEPRECATED, DeprecationWarning, stacklevel=3)
        body.update(extra.pop("extra_body", None) or {})  # the openai SDK's escape hatch, merged the same way
        body.update(extra)
        json_output = _json_output_from_response_format(body, json_output)
        if json_output is not None:
            if isinstance(json_output, type) and issubclass(json_output, BaseModel):
                if not self._model_info.get("structured_output", False):
                    raise ValueError(
                        f"Model {model!r} does not support structured output (model_info['structured_output'])"
                    )
                body["response_format"] = json_schema_response_format(json_output)
            elif json_output is True:
                if not self._model_info["json_output"]:
                    raise ValueError(f"Model {model!r} does not support JSON output (model_info['json_output'])")
                body["response_format"] = {"type": "json_object"}
            elif json_output is False:
                body.pop("response_format", None)
            else:
                raise TypeError(f"json_output must be a bool or a pydantic model class, got {json_output!r}")
        if tools:
            if not self._model_info["function_calling"]:
                raise ValueError(f"Model {model!r} does not support function calling (model_info['function_calling'])")
            body["tools"] = to_wire_tools(tools)
            body["tool_choice"] = to_wire_tool_choice(tool_choice, tools)
        elif not isinstance(tool_choice, str):
            raise ValueError("tool_choice names a tool, but no tools were given")
        body["messages"] = self._wire_messages(messages)
        return body

    def _record_usage(self, usage: RequestUsage) -> None:
        self._total_usage = _add_usage(self._total_usage, usage)
        self._actual_usage = _add_usage(self._actual_usage, usage)

    # -- calls -------------------------------------------------------------------------------

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        body = self._request_body(messages, tools, tool_choice, json_output, extra_create_args)
        request = asyncio.ensure_future(self._http.post_json("chat/completions", body))
        if cancellation_token is not None:
            cancellation_token.link_future(request)
        payload = await request
        result = self._parse_completion(payload)
        self._record_usage(result.usage)
        if event_logger.isEnabledFor(logging.INFO):
            event_logger.info(
                LLMCallEvent(
                    messages=body["messages"],
                    response=payload,
                    prompt_tokens=result.usage.prompt_tokens,
                    completion_tokens=result.usage.completion_tokens,
                )
            )
        return result

    def _parse_completion(self, payload: Mapping[str, Any]) -> CreateResult:
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            raise APIResponseValidationError(f"The response has no choices: {str(payload)[:300]}")
        choice = choices[0]
        message = choice.get("message") or {}
        raw_calls = message.get("tool_calls") or []
        text = message.get("content") if isinstance(message.get("content"), str) else None
        thought = message.get("reasoning_content") or message.get("reasoning") or None
        content: str | list[Any]
        if raw_calls:
            content = [tool_call_to_function_call(call) for call in raw_calls]
            thought = "\n".join(t for t in (thought, text) if t) or None
        else:
            content = text or ""
            if family_uses_think_tags(self._model_info["family"]):
                think, content = split_think(content)
                thought = thought or think
        return CreateResult(
            finish_reason=finish_reason(choice.get("finish_reason"), has_tool_calls=bool(raw_calls)),
            content=content,
            usage=_usage_from(payload.get("usage")),
            cached=False,
            logprobs=parse_logprobs(choice.get("logprobs")),
            thought=thought if isinstance(thought, str) else None,
        )

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
        include_usage: bool | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Yield text deltas as they arrive, then the :class:`CreateResult`.

        ``include_usage`` (default True) asks the server for a final usage chunk
        (``stream_options.include_usage``); without it the usage of a stream is zero.
        """
        body = self._request_body(messages, tools, tool_choice, json_output, extra_create_args)
        body["stream"] = True
        if include_usage is not False:
            stream_options = dict(body.get("stream_options") or {})
            stream_options.setdefault("include_usage", True)
            body["stream_options"] = stream_options
        if event_logger.isEnabledFor(logging.INFO):
            event_logger.info(LLMStreamStartEvent(messages=body["messages"]))
        events = self._http.stream_json("chat/completions", body)
        acc = StreamAccumulator()
        try:
            while True:
                # One task per chunk so that the token can cancel the wait without
                # cancelling the consumer's own task.
                step = asyncio.ensure_future(events.__anext__())
                if cancellation_token is not None:
                    cancellation_token.link_future(step)
                try:
                    chunk = await step
                except StopAsyncIteration:
                    break
                text = acc.add(chunk)
                if text:
                    yield text
        finally:
            await events.aclose()
        result = self._stream_result(acc)
        self._record_usage(result.usage)
        if event_logger.isEnabledFor(logging.INFO):
            event_logger.info(
                LLMStreamEndEvent(
                    response=result.model_dump(mode="json"),
                    prompt_tokens=result.usage.prompt_tokens,
                    completion_tokens=result.usage.completion_tokens,
                )
            )
        yield result

    def _stream_result(self, acc: StreamAccumulator) -> CreateResult:
        text = "".join(acc.text)
        thought: str | None = "".join(acc.reasoning) or None
        content: str | list[Any]
        calls = acc.function_calls()
        if calls:
            content = calls
            thought = "\n".join(t for t in (thought, text) if t) or None
        else:
            content = text
            if family_uses_think_tags(self._model_info["family"]):
                think, content = split_think(content)
                thought = thought or think
        return CreateResult(
            finish_reason=finish_reason(acc.raw_finish_reason, has_tool_calls=bool(calls)),
            content=content,
            usage=_usage_from(acc.usage),
            cached=False,
            logprobs=acc.logprobs,
            thought=thought,
        )

    async def close(self) -> None:
        await self._http.aclose()

    # -- accounting --------------------------------------------------------------------------

    def actual_usage(self) -> RequestUsage:
        return self._actual_usage

    def total_usage(self) -> RequestUsage:
        return self._total_usage

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """An estimate of the prompt tokens (about 4 characters per token; no tokenizer is bundled)."""
        counting_info = ModelInfo(**{**self._model_info, "vision": True})  # count images even if they'd be refused
        wire = self._wire_messages(messages, model_info=counting_info)
        return estimate_tokens(wire, _images_in(messages), to_wire_tools(tools))

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """The model's context window minus :meth:`count_tokens` (128k for models the client does not know)."""
        return _model_info.get_token_limit(str(self._create_args["model"])) - self.count_tokens(messages, tools=tools)

    @property
    def capabilities(self) -> ModelCapabilities:
        warnings.warn("capabilities is deprecated, use model_info", DeprecationWarning, stacklevel=2)
        return ModelCapabilities(
            vision=self._model_info["vision"],
            function_calling=self._model_info["function_calling"],
            json_output=self._model_info["json_output"],
        )

    @property
    def model_info(self) -> ModelInfo:
        return self._model_info


def _resolve_model_info(config: Mapping[str, Any]) -> ModelInfo:
    model = str(config["model"])
    if config.get("model_info") is not None:
        return cast(ModelInfo, dict(config["model_info"]))
    if config.get("model_capabilities") is not None:
        warnings.warn("model_capabilities is deprecated, use model_info", DeprecationWarning, stacklevel=3)
        capabilities = config["model_capabilities"]
        known = _model_info.get_info(model)
        return ModelInfo(
            vision=capabilities["vision"],
            function_calling=capabilities["function_calling"],
            json_output=capabilities["json_output"],
            family=known["family"] if known else "unknown",
            structured_output=known["structured_output"] if known else False,
        )
    known = _model_info.get_info(model)
    if known is None:
        raise ValueError(
            f"model_info is required for model {model!r}, which is not a known OpenAI model: pass "
            "model_info={'vision': ..., 'function_calling': ..., 'json_output': ..., 'family': ..., "
            "'structured_output': ...}"
        )
    return known


class OpenAIChatCompletionClient(BaseOpenAIChatCompletionClient, Component[OpenAIClientConfigurationConfigModel]):
    """Chat completions from OpenAI or any OpenAI-compatible server (vLLM, Ollama, llama.cpp, ...).

    Keyword arguments (all but ``model`` optional):

    - ``model``: the model name the server knows.
    - ``api_key``: default: the ``OPENAI_API_KEY`` environment variable. Required for the OpenAI
      endpoint; other servers may do without (no ``Authorization`` header is sent then).
    - ``base_url``: default: ``OPENAI_BASE_URL`` or ``https://api.openai.com/v1``. For a local
      server, the URL that ends in ``/v1``, e.g. ``http://localhost:11434/v1`` for Ollama.
    - ``timeout``: seconds per attempt (default 600).
    - ``max_retries``: retries after 429, 408, 409, 5xx, connection errors and timeouts
      (default 2), with exponential backoff and jitter, honouring ``Retry-After``.
    - ``model_info``: what the model can do; required for models this client does not know.
    - ``organization``, ``default_headers``, ``add_name_prefixes``, ``include_name_in_message``.
    - request parameters sent with every call: ``temperature``, ``max_tokens``, ``top_p``,
      ``seed``, ``stop``, ``response_format``, ``parallel_tool_calls``, ``reasoning_effort``, ...

    The API key is never part of ``repr``, error messages or logs. ``dump_component`` includes it
    only if it was passed as ``api_key`` (as a secret: ``**********`` in JSON).
    """

    component_type = "model"
    component_config_schema = OpenAIClientConfigurationConfigModel
    component_provider_override = "actorgen_ext.models.openai.OpenAIChatCompletionClient"

    def __init__(self, **kwargs: Unpack[OpenAIClientConfiguration]) -> None:
        if "model" not in kwargs:
            raise ValueError("model is required")
        unknown = set(kwargs) - set(OpenAIClientConfiguration.__annotations__) - _CREATE_ARG_NAMES
        if unknown:
            raise TypeError(f"Unknown arguments for OpenAIChatCompletionClient: {sorted(unknown)}")
        raw: dict[str, Any] = dict(kwargs)
        passed_key = raw.pop("api_key", None)
        if isinstance(passed_key, SecretStr):
            passed_key = passed_key.get_secret_value()
        if passed_key is not None:
            raw["api_key"] = SecretStr(passed_key)
        self._raw_config = raw

        api_key = passed_key if passed_key is not None else os.environ.get("OPENAI_API_KEY")
        base_url = raw.get("base_url") or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        if not api_key and base_url.rstrip("/") == DEFAULT_BASE_URL:
            raise OpenAIError(
                "No API key for the OpenAI API: pass api_key=... or set the OPENAI_API_KEY environment variable"
            )
        model_info = _resolve_model_info(raw)
        timeout = raw.get("timeout")
        max_retries = raw.get("max_retries")
        http = ChatCompletionsHTTP(
            base_url=base_url,
            api_key=SecretStr(api_key) if api_key else None,
            timeout=float(timeout) if timeout is not None else DEFAULT_TIMEOUT,
            retry=RetryPolicy(max_retries=int(max_retries) if max_retries is not None else DEFAULT_MAX_RETRIES),
            default_headers=raw.get("default_headers"),
            organization=raw.get("organization"),
        )
        super().__init__(
            http,
            create_args={k: v for k, v in raw.items() if k in _CREATE_ARG_NAMES},
            model_info=model_info,
            add_name_prefixes=bool(raw.get("add_name_prefixes", False)),
            include_name_in_message=bool(raw.get("include_name_in_message", True)),
        )

    def _to_config(self) -> OpenAIClientConfigurationConfigModel:
        raw = dict(self._raw_config)
        if _is_model_class(raw.get("response_format")):
            # A config holds data, not classes: the request format the class stands for.
            raw["response_format"] = json_schema_response_format(raw["response_format"])
        return OpenAIClientConfigurationConfigModel(**raw)

    @classmethod
    def _from_config(cls, config: OpenAIClientConfigurationConfigModel) -> Self:
        values = config.model_dump(exclude_none=True)
        values.pop("api_key", None)
        if config.api_key is not None:
            secret = config.api_key.get_secret_value()
            # A config that went through JSON carries the mask, not the key: fall back to the environment.
            if secret != _MASKED_SECRET:
                values["api_key"] = secret
        return cls(**values)
