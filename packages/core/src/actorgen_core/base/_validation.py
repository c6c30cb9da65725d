"""Validation of the strings that name agents and topics.

The rules are those of autogen_core so that ids stay interchangeable; the messages say
which rule a value broke, and every check also bounds the length so that a hostile
peer cannot make us store megabytes of id.
"""

from __future__ import annotations

import re
import unicodedata

MAX_ID_LENGTH = 512
"""Upper bound for agent types, keys, topic types and topic sources (characters)."""

_AGENT_TYPE_RE = re.compile(r"^[\w\-\.]+\Z")
_TOPIC_TYPE_RE = re.compile(r"^[\w\-\.\:\=]+\Z")


def _describe(value: str) -> str:
    shown = value if len(value) <= 40 else value[:37] + "..."
    return repr(shown)


def check_agent_type(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"Agent type must be a str, got {type(value).__name__}")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"Invalid agent type {_describe(value)}: longer than {MAX_ID_LENGTH} characters")
    if _AGENT_TYPE_RE.match(value) is None:
        raise ValueError(
            f"Invalid agent type {_describe(value)}: it must be non-empty and contain only letters, "
            "digits, '_', '-' and '.' (regex ^[\\w\\-\\.]+\\Z)"
        )
    return value


def check_topic_type(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"Topic type must be a str, got {type(value).__name__}")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"Invalid topic type {_describe(value)}: longer than {MAX_ID_LENGTH} characters")
    if _TOPIC_TYPE_RE.match(value) is None:
        raise ValueError(
            f"Invalid topic type {_describe(value)}: it must be non-empty and contain only letters, "
            "digits, '_', '-', '.', ':' and '=' (regex ^[\\w\\-\\.\\:\\=]+\\Z)"
        )
    return value


_FORBIDDEN_IN_KEYS = {
    # Control characters and line breaks would let an id forge lines in logs and frames.
    "Cc": "control characters are not allowed",
    "Zl": "line separators are not allowed",
    "Zp": "paragraph separators are not allowed",
    # A lone surrogate cannot be encoded as UTF-8, so the id could never cross the wire.
    "Cs": "unpaired surrogates are not allowed",
}


def check_key(value: object, what: str) -> str:
    """Keys and sources may hold any text (including '/' and spaces) except control
    characters, line separators and lone surrogates, bounded in length."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a str, got {type(value).__name__}")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"Invalid {what} {_describe(value)}: longer than {MAX_ID_LENGTH} characters")
    if not value.isprintable():
        # Not every non-printable character is forbidden: a no-break space or the zero-width
        # joiner inside an emoji sequence is ordinary text.
        for char in value:
            rule = _FORBIDDEN_IN_KEYS.get(unicodedata.category(char))
            if rule is not None:
                raise ValueError(f"Invalid {what} {_describe(value)}: {rule}")
    return value
