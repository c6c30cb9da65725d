"""The model behind each sample: a scripted one offline, a real server when OPENAI_API_KEY is set.

Offline (the default), each agent gets a ReplayChatCompletionClient that answers with the lines
the sample scripts for it, so the samples run without network or key. With OPENAI_API_KEY set,
every agent gets the same v0.2-style llm_config pointing at OPENAI_BASE_URL (default: OpenAI)
and OPENAI_MODEL (default: gpt-4o-mini), and the scripts are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from actorgen_core.models import ChatCompletionClient, CreateResult
from actorgen_ext.models.replay import ReplayChatCompletionClient


def online() -> bool:
    return bool(os.environ.get("OPENAI_API_KEY"))


def model(script: Sequence[str | CreateResult]) -> dict[str, Any] | ChatCompletionClient:
    """What to pass as an agent's llm_config."""
    if not online():
        return ReplayChatCompletionClient(list(script))
    entry: dict[str, Any] = {"model": os.environ.get("OPENAI_MODEL", "gpt-4o-mini")}
    if os.environ.get("OPENAI_BASE_URL"):
        entry["base_url"] = os.environ["OPENAI_BASE_URL"]
    return {"config_list": [entry], "temperature": 0.7}
