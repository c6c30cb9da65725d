"""Pull JSON values out of model output that may wrap them in fenced code blocks."""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["extract_json_from_str"]

_FENCED_BLOCK = re.compile(r"```[ \t]*([\w+\-]*)[ \t]*\n(.*?)```", re.DOTALL)


def extract_json_from_str(content: str) -> list[dict[str, Any]]:
    """The JSON values in ``content``: every fenced block (untagged or tagged ``json``), or,
    when there is no fenced block, the whole text.

    Raises:
        ValueError: a fenced block is tagged with another language, or a value is not valid JSON
            (``json.JSONDecodeError`` is a ValueError).
    """
    blocks = _FENCED_BLOCK.findall(content)
    if not blocks:
        return [json.loads(content)]
    values: list[dict[str, Any]] = []
    for language, body in blocks:
        if language and language.lower() != "json":
            raise ValueError(f"Expected a JSON code block, found one tagged {language!r}")
        values.append(json.loads(body))
    return values
