"""The HTTP layer under the OpenAI client: SSE decoding, retry decisions, errors, redaction."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import time

import pytest
from pydantic import SecretStr

from actorgen_ext.models.openai import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InternalServerError,
    RateLimitError,
)
from actorgen_ext.models.openai._http import ChatCompletionsHTTP
from actorgen_ext.models.openai._retry import RetryPolicy, is_retryable_status, parse_retry_after
from actorgen_ext.models.openai._sse import ServerSentEvent, SSEDecoder

from .fake_openai_server import FakeOpenAIServer, Reply, completion

KEY = "sk-test-SECRET-0123456789abcdef"


def make_http(
    base_url: str, *, retries: int = 2, timeout: float = 5.0, initial_delay: float = 0.01
) -> ChatCompletionsHTTP:
    return ChatCompletionsHTTP(
        base_url=base_url,
        api_key=SecretStr(KEY),
        timeout=timeout,
        retry=RetryPolicy(max_retries=retries, initial_delay=initial_delay, max_delay=0.05, rng=random.Random(0)),
    )


def feed_all(lines: list[str]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [e for e in (decoder.feed(line) for line in lines) if e is not None]
    last = decoder.flush()
    return [*events, last] if last else events


def test_sse_decoder_joins_data_lines_and_skips_comments() -> None:
    events = feed_all([": keep-alive", "", 'data: {"a":', "data: 1}", "", "event: error", "data:x", "", "data: [DONE]"])
    assert events == [
        ServerSentEvent(data='{"a":\n1}'),
        ServerSentEvent(data="x", event="error"),
        ServerSentEvent(data="[DONE]"),
    ]


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "150", "retry-after": "9"}) == 0.15
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0) == 10.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_retryable_statuses_and_server_override() -> None:
    assert [s for s in (400, 401, 404, 408, 409, 429, 500, 503) if is_retryable_status(s, {})] == [
        408,
        409,
        429,
        500,
        503,
    ]
    assert not is_retryable_status(503, {"x-should-retry": "false"})
    assert is_retryable_status(400, {"x-should-retry": "true"})


def test_backoff_is_exponential_capped_and_jittered_down() -> None:
    policy = RetryPolicy(max_retries=10, initial_delay=1.0, max_delay=8.0, jitter=0.25, rng=random.Random(1))
    for index, base in enumerate([1.0, 2.0, 4.0, 8.0, 8.0, 8.0]):
        assert 0.75 * base <= policy.backoff(index) <= base
    assert policy.delay(10, None) is None  # out of retries
    assert policy.delay(0, 3.0) == 3.0  # Retry-After wins over backoff
    assert policy.delay(0, 61.0) is None  # too long to wait: give up now


async def test_post_json_retries_429_honouring_retry_after(server: FakeOpenAIServer) -> None:
    server.script(
        Reply(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "0.3"}),
        Reply(200, completion("ok")),
    )
    http = make_http(server.base_url)
    try:
        body = await http.post_json("chat/completions", {"model": "m"})
    finally:
        await http.aclose()
    assert body["choices"][0]["message"]["content"] == "ok"
    assert len(server.requests) == 2
    waited = server.request_times[1] - server.request_times[0]
    assert 0.3 <= waited < 2.0  # the server's 0.3 s, not the 0.01 s backoff


async def test_post_json_gives_up_after_max_retries_on_500(
    server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(*[Reply(500, {"error": {"message": "boom"}}) for _ in range(3)])
    http = make_http(server.base_url, retries=2)
    with caplog.at_level(logging.WARNING, logger="actorgen_ext"):
        with pytest.raises(InternalServerError) as info:
            await http.post_json("chat/completions", {"model": "m"})
    await http.aclose()
    assert len(server.requests) == 3
    assert info.value.status_code == 500
    assert "Error code: 500 - boom" in str(info.value)
    assert len([r for r in caplog.records if "Retrying" in r.getMessage()]) == 2


async def test_401_is_not_retried_and_never_shows_the_key(
    server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A careless server echoes the key back; it must not reach the error, its body, or the logs.
    server.script(Reply(401, {"error": {"message": f"Incorrect API key provided: {KEY}", "code": "invalid_api_key"}}))
    http = make_http(server.base_url)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(AuthenticationError) as info:
            await http.post_json("chat/completions", {"model": "m"})
    await http.aclose()
    assert len(server.requests) == 1
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    error = info.value
    assert "Incorrect API key provided: ***" in str(error)
    for text in (str(error), repr(error), json.dumps(error.body), repr(http), caplog.text):
        assert KEY not in text


async def test_connection_refused_is_retried_then_typed(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    http = make_http(f"http://127.0.0.1:{port}/v1", retries=1)
    with caplog.at_level(logging.WARNING, logger="actorgen_ext"):
        with pytest.raises(APIConnectionError) as info:
            await http.post_json("chat/completions", {"model": "m"})
    await http.aclose()
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "Retrying" in caplog.text


async def test_timeout_bounds_each_attempt(server: FakeOpenAIServer) -> None:
    server.script(Reply(200, completion(), delay=3.0))
    http = make_http(server.base_url, retries=0, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        await http.post_json("chat/completions", {"model": "m"})
    await http.aclose()
    assert time.monotonic() - started < 2.0
    assert isinstance(info.value, TimeoutError)


async def test_stream_retries_before_the_first_event_then_yields_events(server: FakeOpenAIServer) -> None:
    server.script(
        Reply(503, {"error": {"message": "warming up"}}),
        Reply(sse_events=['{"n": 1}', '{"n": 2}', "[DONE]", '{"n": 3}']),
    )
    http = make_http(server.base_url)
    events = [event async for event in http.stream_json("chat/completions", {"model": "m", "stream": True})]
    await http.aclose()
    assert events == [{"n": 1}, {"n": 2}]  # nothing after [DONE]
    assert len(server.requests) == 2
    assert server.requests[1].headers["accept"] == "text/event-stream"


async def test_error_event_inside_a_stream_is_raised(server: FakeOpenAIServer) -> None:
    server.script(Reply(sse_events=['{"n": 1}', '{"error": {"message": "overloaded", "code": 503}}']))
    http = make_http(server.base_url)
    seen = []
    with pytest.raises(InternalServerError, match="overloaded"):
        async for event in http.stream_json("chat/completions", {"model": "m"}):
            seen.append(event)
    await http.aclose()
    assert seen == [{"n": 1}]
    assert len(server.requests) == 1  # a stream that started is never replayed


async def test_retry_after_beyond_the_cap_fails_fast(server: FakeOpenAIServer) -> None:
    server.script(Reply(429, {"error": {"message": "quota"}}, headers={"Retry-After": "3600"}))
    http = make_http(server.base_url)
    started = time.monotonic()
    with pytest.raises(RateLimitError, match="more than we wait") as info:
        await http.post_json("chat/completions", {"model": "m"})
    await http.aclose()
    assert time.monotonic() - started < 1.0
    assert info.value.retry_after == 3600.0


async def test_client_follows_the_running_event_loop(server: FakeOpenAIServer) -> None:
    server.script(Reply(200, completion("a")), Reply(200, completion("b")))
    http = make_http(server.base_url)
    first = await http.post_json("chat/completions", {"model": "m"})

    def in_another_loop() -> str:
        result = asyncio.run(http.post_json("chat/completions", {"model": "m"}))
        return str(result["choices"][0]["message"]["content"])

    second = await asyncio.to_thread(in_another_loop)
    await http.aclose()
    assert (first["choices"][0]["message"]["content"], second) == ("a", "b")
