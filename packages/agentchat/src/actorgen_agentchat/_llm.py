"""v0.2's ``llm_config`` on top of actorgen_ext's OpenAI client: endpoints tried in order, usage per model."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from actorgen_core import CancellationToken
from actorgen_core.models import ChatCompletionClient, CreateResult, LLMMessage, ModelInfo
from actorgen_core.tools import ToolSchema
from actorgen_ext.models.openai import OpenAIChatCompletionClient, OpenAIError

logger = logging.getLogger("actorgen_agentchat")

# Keys of a config_list entry that configure the client itself rather than the request.
_CLIENT_KEYS = frozenset(
    {
        "model",
        "api_key",
        "base_url",
        "timeout",
        "max_retries",
        "organization",
        "default_headers",
        "model_info",
        "include_name_in_message",
        "add_name_prefixes",
    }
)
# v0.2 keys that mean something to v0.2's wrapper only; they never reach a request.
_V02_ONLY_KEYS = frozenset(
    {
        "api_type",
        "api_version",
        "tags",
        "price",
        "model_client_cls",
        "cache_seed",
        "cache",
        "filter_func",
        "allow_format_str_template",
        "context",
        "tools",
        "functions",
        "config_list",
    }
)
# For a model the client does not know, v0.2 assumed it can call tools; so do we.
_ASSUMED_MODEL_INFO = ModelInfo(
    vision=False, function_calling=True, json_output=True, family="unknown", structured_output=False
)


@dataclass
class _Endpoint:
    label: str
    client: ChatCompletionClient
    price: tuple[float, float] | None = None
    owned: bool = True


@dataclass
class UsageTotals:
    """Tokens and cost per model: everything, and only what was not served from a cache."""

    including_cached: dict[str, dict[str, float]] = field(default_factory=dict)
    excluding_cached: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, model: str, result: CreateResult, price: tuple[float, float] | None) -> None:
        prompt, completion = result.usage.prompt_tokens, result.usage.completion_tokens
        cost = (prompt * price[0] + completion * price[1]) / 1000 if price else 0.0
        targets = [self.including_cached] if result.cached else [self.including_cached, self.excluding_cached]
        for target in targets:
            entry = target.setdefault(
                model, {"cost": 0.0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
            )
            entry["cost"] += cost
            entry["prompt_tokens"] += prompt
            entry["completion_tokens"] += completion
            entry["total_tokens"] += prompt + completion

    def snapshot(self) -> UsageTotals:
        return copy.deepcopy(self)


def usage_summary(totals: Sequence[UsageTotals], since: Sequence[UsageTotals] | None = None) -> dict[str, Any]:
    """ChatResult.cost: v0.2's two usage dicts, each with ``total_cost`` and one entry per model."""
    summary: dict[str, Any] = {}
    for key in ("including_cached", "excluding_cached"):
        merged: dict[str, dict[str, float]] = {}
        for index, total in enumerate(totals):
            before = getattr(since[index], key) if since is not None else {}
            for model, numbers in getattr(total, key).items():
                entry = merged.setdefault(
                    model, {"cost": 0.0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
                )
                for name, value in numbers.items():
                    entry[name] += value - before.get(model, {}).get(name, 0)
        per_model: dict[str, Any] = {model: numbers for model, numbers in merged.items() if numbers["total_tokens"]}
        per_model = {"total_cost": sum(numbers["cost"] for numbers in per_model.values()), **per_model}
        summary[f"usage_{key}_inference"] = per_model
    return summary


def _client_label(client: ChatCompletionClient) -> str:
    model = getattr(client, "model", None)
    if isinstance(model, str):
        return model
    family = client.model_info.get("family") if hasattr(client, "model_info") else None
    return f"{type(client).__name__}({family})" if family else type(client).__name__


class ModelCaller:
    """Calls a model for an agent: a ChatCompletionClient given directly, or the endpoints of
    a v0.2 ``llm_config`` tried in ``config_list`` order until one answers."""

    def __init__(self, llm_config: Mapping[str, Any] | ChatCompletionClient) -> None:
        self.usage = UsageTotals()
        self.extra_args: dict[str, Any] = {}
        self._endpoints: list[_Endpoint] = []
        self._request_args: list[dict[str, Any]] = []  # per endpoint: what goes into every request
        if isinstance(llm_config, ChatCompletionClient):
            self._endpoints.append(_Endpoint(_client_label(llm_config), llm_config, owned=False))
            self._request_args.append({})
            return
        config = dict(llm_config)
        entries = config.get("config_list")
        if entries is None and config.get("model"):
            entries = [{key: config[key] for key in _CLIENT_KEYS if key in config}]
        if not entries:
            raise ValueError(
                "llm_config needs a non-empty 'config_list' (entries with 'model', and 'api_key' / 'base_url' as "
                "needed), or pass llm_config=False for an agent without a model"
            )
        shared = {key: value for key, value in config.items() if key not in _V02_ONLY_KEYS}
        for raw in entries:
            entry = {**shared, **dict(raw)}
            if not entry.get("model"):
                raise ValueError(f"Every config_list entry needs a 'model'; got keys {sorted(raw)}")
            client_args = {key: entry[key] for key in _CLIENT_KEYS if entry.get(key) is not None}
            request_args = {
                key: value for key, value in entry.items() if key not in _CLIENT_KEYS and key not in _V02_ONLY_KEYS
            }
            try:
                client = OpenAIChatCompletionClient(**client_args)
            except ValueError:
                if "model_info" in client_args:
                    raise
                client = OpenAIChatCompletionClient(**client_args, model_info=_ASSUMED_MODEL_INFO)
            price = entry.get("price")
            endpoint = _Endpoint(
                str(entry["model"]), client, (float(price[0]), float(price[1])) if price else None, owned=True
            )
            self._endpoints.append(endpoint)
            self._request_args.append(request_args)

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[ToolSchema] = (),
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Ask the first endpoint; when it fails (connection, timeout, an error status), the next."""
        last_error: Exception | None = None
        for index, endpoint in enumerate(self._endpoints):
            extra = self._request_args[index]
            try:
                result = await endpoint.client.create(
                    messages, tools=list(tools), extra_create_args=extra, cancellation_token=cancellation_token
                )
            except OpenAIError as error:
                last_error = error
                if index + 1 < len(self._endpoints):
                    logger.warning(
                        "Model endpoint %d (%s) failed, trying the next one in config_list: %s",
                        index,
                        endpoint.label,
                        error,
                    )
                continue
            self.usage.add(endpoint.label, result, endpoint.price)
            return result
        assert last_error is not None
        raise last_error

    def reset_usage(self) -> None:
        self.usage = UsageTotals()

    async def close(self) -> None:
        for endpoint in self._endpoints:
            if endpoint.owned:
                await endpoint.client.close()


def tool_schema_from_v02(tool: dict[str, Any]) -> ToolSchema:
    function = tool.get("function", tool)
    schema = ToolSchema(name=str(function["name"]), description=str(function.get("description", "")))
    if "parameters" in function:
        schema["parameters"] = function["parameters"]
    return schema
