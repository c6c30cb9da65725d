"""Finding code in a message and reporting what running it did, the v0.2 way."""

from __future__ import annotations

import re

from actorgen_core.code_executor import CodeBlock

_FENCE = re.compile(r"```[ \t]*([\w+\-.]*)[ \t]*\r?\n(.*?)\r?\n?```", re.DOTALL)


def infer_language(code: str) -> str:
    """A guess for a block without a language tag: pip/python commands are shell, Python that
    compiles is python; anything else is "unknown" (which the executor refuses)."""
    stripped = code.lstrip()
    if stripped.startswith(("python ", "python3 ", "pip ", "pip3 ")):
        return "sh"
    try:
        compile(code, "<code block>", "exec")
    except (SyntaxError, ValueError):
        return "unknown"
    return "python"


def extract_code_blocks(text: str) -> list[CodeBlock]:
    """Every fenced block of ``text``, in order."""
    blocks = []
    for match in _FENCE.finditer(text):
        language, code = match.group(1).strip().lower(), match.group(2)
        if not code.strip():
            continue
        if language in ("", "code"):
            language = infer_language(code)
        elif language in ("py", "python3"):
            language = "python"
        elif language in ("shell", "bash", "console"):
            language = "sh" if language == "console" else language
        blocks.append(CodeBlock(code=code, language=language))
    return blocks


def execution_reply(exit_code: int, output: str) -> str:
    status = "execution succeeded" if exit_code == 0 else "execution failed"
    return f"exitcode: {exit_code} ({status})\nCode output: {output}"
