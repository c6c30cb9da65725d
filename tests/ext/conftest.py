from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake_openai_server import FakeOpenAIServer


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    fake = FakeOpenAIServer()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
