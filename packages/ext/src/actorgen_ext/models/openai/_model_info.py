"""What the client knows about OpenAI's own models, so that they need no ``model_info``.

A dated name (``gpt-4o-2024-08-06``) resolves to the longest known name it starts with,
followed by ``-``. Any other model (everything served by vLLM, Ollama, llama.cpp, ...) must be
described by the caller's ``model_info``.
"""

from __future__ import annotations

from actorgen_core.models import ModelFamily, ModelInfo

__all__ = ["get_info", "get_token_limit", "DEFAULT_TOKEN_LIMIT"]

DEFAULT_TOKEN_LIMIT = 128_000
"""Context window assumed by ``remaining_tokens`` for models not in the table below."""


def _info(
    family: str, *, vision: bool = True, tools: bool = True, json: bool = True, structured: bool = True
) -> ModelInfo:
    return ModelInfo(
        vision=vision,
        function_calling=tools,
        json_output=json,
        family=family,
        structured_output=structured,
        multiple_system_messages=True,
    )


# name -> (model info, context window in tokens)
_MODELS: dict[str, tuple[ModelInfo, int]] = {
    "gpt-5": (_info(ModelFamily.GPT_5), 400_000),
    "gpt-5-mini": (_info(ModelFamily.GPT_5), 400_000),
    "gpt-5-nano": (_info(ModelFamily.GPT_5), 400_000),
    "gpt-4.1": (_info(ModelFamily.GPT_41), 1_047_576),
    "gpt-4.1-mini": (_info(ModelFamily.GPT_41), 1_047_576),
    "gpt-4.1-nano": (_info(ModelFamily.GPT_41), 1_047_576),
    "gpt-4.5-preview": (_info(ModelFamily.GPT_45), 128_000),
    "gpt-4o": (_info(ModelFamily.GPT_4O), 128_000),
    "gpt-4o-mini": (_info(ModelFamily.GPT_4O), 128_000),
    "gpt-4-turbo": (_info(ModelFamily.GPT_4, structured=False), 128_000),
    "gpt-4": (_info(ModelFamily.GPT_4, vision=False, json=False, structured=False), 8_192),
    "gpt-4-32k": (_info(ModelFamily.GPT_4, vision=False, json=False, structured=False), 32_768),
    "gpt-3.5-turbo": (_info(ModelFamily.GPT_35, vision=False, structured=False), 16_385),
    "o1": (_info(ModelFamily.O1), 200_000),
    "o1-mini": (_info(ModelFamily.O1, vision=False, tools=False, json=False, structured=False), 128_000),
    "o1-preview": (_info(ModelFamily.O1, vision=False, tools=False, json=False, structured=False), 128_000),
    "o3": (_info(ModelFamily.O3), 200_000),
    "o3-mini": (_info(ModelFamily.O3, vision=False), 200_000),
    "o4-mini": (_info(ModelFamily.O4), 200_000),
}
_BY_LENGTH = sorted(_MODELS, key=len, reverse=True)


def _resolve(model: str) -> str | None:
    for name in _BY_LENGTH:
        if model == name or model.startswith(name + "-"):
            return name
    return None


def get_info(model: str) -> ModelInfo | None:
    """The known description of an OpenAI model, or None."""
    name = _resolve(model)
    return ModelInfo(**_MODELS[name][0]) if name is not None else None


def get_token_limit(model: str) -> int:
    """The context window of a known model, else :data:`DEFAULT_TOKEN_LIMIT`."""
    name = _resolve(model)
    return _MODELS[name][1] if name is not None else DEFAULT_TOKEN_LIMIT
