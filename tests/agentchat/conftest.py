from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..ext.fake_openai_server import FakeOpenAIServer, Reply, completion

KEY = "sk-agentchat-SECRET-0123456789"


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    fake = FakeOpenAIServer()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def llm_config(server: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    """A v0.2 llm_config whose one endpoint is the scripted server (no retries: tests stay fast)."""
    return {
        "config_list": [{"model": "gpt-4o", "api_key": KEY, "base_url": server.base_url, "max_retries": 0}],
        **extra,
    }


def say(server: FakeOpenAIServer, *texts: str) -> None:
    """Script the server's next answers."""
    server.script(*(Reply(200, completion(text)) for text in texts))


class Human:
    """Answers human-input prompts from a script and records each prompt (set as an agent's get_human_input)."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise AssertionError(f"unexpected human prompt: {prompt}")
        return self.answers.pop(0)
