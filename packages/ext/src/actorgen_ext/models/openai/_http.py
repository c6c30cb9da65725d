"""The HTTP layer of the OpenAI-compatible client: one POST, retries, SSE.

It knows the chat-completions wire format only as far as errors go; turning messages into
request bodies and responses into ``CreateResult`` is the client's job. Kept apart so the
retry and error rules can be read (and tested) in one place.

The API key lives in a :class:`pydantic.SecretStr` and only ever leaves it to build the
``Authorization`` header of a request; every error text, error body and log line is passed
through :func:`redact` first.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any, NoReturn

import httpx
from pydantic import SecretStr

from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    redact,
    status_error_class,
)
from ._retry import RetryPolicy, is_retryable_status, parse_retry_after
from ._sse import ServerSentEvent, SSEDecoder

__all__ = ["ChatCompletionsHTTP", "USER_AGENT"]

logger = logging.getLogger("actorgen_ext.models.openai")

USER_AGENT = "actorgen-ext"
_MAX_ERROR_TEXT = 2000


def _server_error_text(payload: Any, raw: str) -> str:
    """The human part of an error body, whichever dialect the server speaks."""
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            message = error.get("message")
            if isinstance(message, str) and message:
                return message
        if isinstance(error, str) and error:
            return error
        for key in ("message", "detail"):  # plain servers, FastAPI
            value = payload.get(key)
            if isinstance(value, str) and value:
                return value
    text = raw.strip()
    if len(text) > _MAX_ERROR_TEXT:
        text = text[:_MAX_ERROR_TEXT] + "..."
    return text or "(empty response body)"


class ChatCompletionsHTTP:
    """POSTs JSON to an OpenAI-compatible server, with retries, timeouts and typed errors."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: SecretStr | None,
        timeout: float,
        retry: RetryPolicy,
        default_headers: Mapping[str, str] | None = None,
        organization: str | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.retry = retry
        self._default_headers = dict(default_headers or {})
        self._organization = organization
        self._user_client = http_client
        self._owned_client: httpx.AsyncClient | None = None
        self._owned_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, timeout={self.timeout!r})"

    # -- plumbing -----------------------------------------------------------------------

    def _secret(self) -> str | None:
        return self._api_key.get_secret_value() if self._api_key is not None else None

    def _redact(self, text: str) -> str:
        return redact(text, self._secret())

    def _client(self) -> httpx.AsyncClient:
        if self._user_client is not None:
            return self._user_client
        loop = asyncio.get_running_loop()
        # A connection pool belongs to the event loop it was opened on; a client reused
        # from another loop (asyncio.run called twice, the sync agentchat API) gets a new one.
        if self._owned_client is None or self._owned_loop is not loop or self._owned_client.is_closed:
            self._owned_client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                follow_redirects=False,
            )
            self._owned_loop = loop
        return self._owned_client

    def _headers(self, *, stream: bool) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "text/event-stream" if stream else "application/json"}
        if self._organization:
            headers["OpenAI-Organization"] = self._organization
        headers.update(self._default_headers)
        secret = self._secret()
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        return headers

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    async def aclose(self) -> None:
        client, self._owned_client = self._owned_client, None
        loop, self._owned_loop = self._owned_loop, None
        if client is None or client.is_closed:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            await client.aclose()
        # A pool opened on a loop that is gone cannot be closed from here; dropping it is all we can do.

    # -- errors -------------------------------------------------------------------------

    def _status_error(self, response: httpx.Response, body: Mapping[str, Any]) -> APIStatusError:
        raw = self._redact(response.text)
        try:
            payload: Any = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        text = _server_error_text(payload, raw)
        status = response.status_code
        message = f"Error code: {status} - {text}"
        model = body.get("model")
        if status == 401:
            message += " (check the api_key argument or the OPENAI_API_KEY environment variable)"
        elif status == 404:
            message += f" (is model {model!r} served at {self.base_url}?)"
        return status_error_class(status)(
            self._redact(message),
            status_code=status,
            body=payload if payload is not None else raw,
            request_url=str(response.request.url),
            retry_after=parse_retry_after(response.headers),
        )

    def _transport_error(self, exc: BaseException, url: str) -> APIConnectionError:
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            return APITimeoutError(f"Request to {url} timed out after {self.timeout}s", request_url=url)
        detail = self._redact(str(exc)) or type(exc).__name__
        return APIConnectionError(f"Connection error calling {url}: {detail}", request_url=url)

    async def _wait_or_raise(self, error: APIError, retry_index: int) -> None:
        retry_after = error.retry_after if isinstance(error, APIStatusError) else None
        delay = self.retry.delay(retry_index, retry_after)
        if delay is None:
            if (
                retry_after is not None
                and retry_after > self.retry.max_retry_after
                and retry_index < self.retry.max_retries
            ):
                error.message += f" (server asked to retry after {retry_after:.0f}s, more than we wait)"
                error.args = (error.message,)
            raise error
        logger.warning(
            "Retrying chat completion request in %.2fs (retry %d of %d) after: %s",
            delay,
            retry_index + 1,
            self.retry.max_retries,
            error.message,
        )
        await asyncio.sleep(delay)

    # -- requests -----------------------------------------------------------------------

    async def _send_with_retries(self, url: str, body: Mapping[str, Any], *, stream: bool) -> httpx.Response:
        """POST ``body`` until a 2xx answer, retrying what the retry policy allows.

        Each attempt gets a fresh timeout covering connect, send and wait (and, when not
        streaming, reading the body). A streamed answer is returned with its body unread.
        """
        client = self._client()
        retry_index = 0
        while True:
            request = client.build_request("POST", url, json=body, headers=self._headers(stream=stream))
            try:
                async with asyncio.timeout(self.timeout):
                    response = await client.send(request, stream=stream)
            except (httpx.TimeoutException, TimeoutError, httpx.TransportError) as exc:
                error: APIError = self._transport_error(exc, url)
                cause: BaseException | None = exc
            else:
                if response.status_code < 400:
                    return response
                if stream:  # read the error body so that the error can quote it
                    try:
                        async with asyncio.timeout(self.timeout):
                            await response.aread()
                    except (httpx.TimeoutException, TimeoutError, httpx.TransportError):
                        pass
                    finally:
                        await response.aclose()
                error = self._status_error(response, body)
                cause = None
                if not is_retryable_status(response.status_code, response.headers):
                    raise error
            try:
                await self._wait_or_raise(error, retry_index)
            except APIError as final:
                raise final from cause
            retry_index += 1

    async def post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body``; return the decoded JSON object of a 2xx answer.

        The timeout bounds each attempt as a whole (connect, send, wait, read); retries
        each get a fresh one.
        """
        url = self._url(path)
        response = await self._send_with_retries(url, body, stream=False)
        return self._decode_object(response.text, url)

    def _decode_object(self, text: str, url: str) -> dict[str, Any]:
        try:
            payload = json.loads(text)
        except ValueError:
            self._invalid_response(f"Response from {url} is not JSON: {text[:200]!r}", url)
        if not isinstance(payload, dict):
            self._invalid_response(f"Response from {url} is not a JSON object: {text[:200]!r}", url)
        return payload

    def _invalid_response(self, message: str, url: str) -> NoReturn:
        raise APIResponseValidationError(self._redact(message), request_url=url)

    async def stream_json(self, path: str, body: Mapping[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        """POST ``body`` and yield the JSON object of each server-sent event until ``[DONE]``.

        Opening the stream (up to the response headers) is retried like :meth:`post_json`;
        once the first event may have been consumed, failures are raised, never retried.
        The timeout bounds opening the stream and then each wait for the next bytes.
        A server that ignores ``stream: true`` and answers with plain JSON yields that one object.
        """
        url = self._url(path)
        response = await self._send_with_retries(url, body, stream=True)
        try:
            content_type = response.headers.get("content-type", "")
            if content_type.startswith("application/json"):
                await response.aread()
                yield self._decode_object(response.text, url)
                return
            decoder = SSEDecoder()
            async for line in response.aiter_lines():
                event = decoder.feed(line)
                if event is None:
                    continue
                if event.data == "[DONE]":
                    return
                yield self._decode_event(event, url)
            event = decoder.flush()
            if event is not None and event.data != "[DONE]":
                yield self._decode_event(event, url)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise self._transport_error(exc, url) from exc
        finally:
            await response.aclose()

    def _decode_event(self, event: ServerSentEvent, url: str) -> dict[str, Any]:
        data = self._redact(event.data)
        payload = self._decode_object(data, url)
        error = payload.get("error")
        if event.event == "error" or error is not None:
            text = _server_error_text(payload, data)
            status = error.get("code") if isinstance(error, dict) else None
            if isinstance(status, int) and 400 <= status < 600:
                raise status_error_class(status)(
                    f"Error code: {status} - {text} (sent inside the stream)",
                    status_code=status,
                    body=payload,
                    request_url=url,
                )
            raise APIError(f"Server reported an error inside the stream: {text}", body=payload, request_url=url)
        return payload
