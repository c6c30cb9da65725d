"""Typed errors of the OpenAI-compatible client.

The names follow the ``openai`` SDK's exception classes so that code which catches
``RateLimitError`` or ``AuthenticationError`` by name reads the same. Every message is passed
through :func:`redact` before it is stored, so neither ``str(error)`` nor ``repr(error)``
can show the API key even when a server echoes it back.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "OpenAIError",
    "APIError",
    "APIConnectionError",
    "APITimeoutError",
    "APIResponseValidationError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "status_error_class",
]

REDACTED = "***"


def redact(text: str, secret: str | None) -> str:
    """Replace every occurrence of ``secret`` in ``text``.

    Short secrets (under 8 characters) are still redacted: a key is a key, and an empty
    string is the only value left alone.
    """
    if not secret:
        return text
    return text.replace(secret, REDACTED)


class OpenAIError(Exception):
    """Base class of every error raised by the OpenAI-compatible client."""


class APIError(OpenAIError):
    """A request to the server failed.

    ``message`` is the human-readable text (already redacted), ``body`` the parsed JSON error
    body when the server sent one (also redacted), ``request_url`` the URL that was called.
    """

    def __init__(self, message: str, *, body: Any = None, request_url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.body = body
        self.request_url = request_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke before a full response arrived."""


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request did not complete within the client's ``timeout``."""


class APIResponseValidationError(APIError):
    """The server answered 2xx with a body that is not a chat completion we can read."""


class APIStatusError(APIError):
    """The server answered with a 4xx or 5xx status code."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        request_url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, body=body, request_url=request_url)
        self.status_code = status_code
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """400: the server rejected the request (unsupported parameter, malformed messages, ...)."""


class AuthenticationError(APIStatusError):
    """401: missing or wrong API key."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but may not use this resource."""


class NotFoundError(APIStatusError):
    """404: unknown model, or a ``base_url`` that does not serve ``/chat/completions``."""


class ConflictError(APIStatusError):
    """409."""


class UnprocessableEntityError(APIStatusError):
    """422: the server understood the JSON but not its content."""


class RateLimitError(APIStatusError):
    """429: too many requests or out of quota."""


class InternalServerError(APIStatusError):
    """5xx."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The most specific error class for an HTTP status code."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)
