"""When and how long to wait before retrying a failed request.

Retried: connection errors, timeouts, and the statuses a server uses to say "try again"
(408, 409, 429, 5xx). A server may override the decision with ``x-should-retry: true|false``.

The wait before retry ``n`` (0-based) is ``min(max_delay, initial_delay * 2**n)`` scaled by a
random factor in ``[1 - jitter, 1]`` (so concurrent clients spread out and never wait longer
than the cap). When the server sends ``Retry-After`` (seconds or an HTTP date) or
``retry-after-ms``, that value is used instead; a value above ``max_retry_after`` is not
waited out (the client would look hung) and the error is raised at once.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["RetryPolicy", "parse_retry_after", "is_retryable_status"]

_RETRYABLE_STATUSES = frozenset({408, 409, 429})


def is_retryable_status(status_code: int, headers: Mapping[str, str]) -> bool:
    override = headers.get("x-should-retry")
    if override == "true":
        return True
    if override == "false":
        return False
    return status_code in _RETRYABLE_STATUSES or status_code >= 500


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait, or None when it did not say (or said nonsense)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
        return max(0.0, seconds)
    return seconds if seconds >= 0 else None


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be within [0, 1], got {self.jitter}")

    def backoff(self, retry_index: int) -> float:
        """The exponential wait before retry number ``retry_index`` (0-based), jittered."""
        base = min(self.max_delay, self.initial_delay * (2.0**retry_index))
        return base * (1.0 - self.jitter * self.rng.random())

    def delay(self, retry_index: int, retry_after: float | None) -> float | None:
        """How long to wait before the next attempt, or None to give up now."""
        if retry_index >= self.max_retries:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return retry_after
        return self.backoff(retry_index)
