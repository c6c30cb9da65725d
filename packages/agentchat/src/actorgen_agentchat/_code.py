"""Finding code in a message and reporting what running it did, the v0.2 way."""

from __future__ import annotations

import re
import warnings
from typing import Any

from actorgen_core.code_executor import CodeBlock, CodeExecutor
from actorgen_ext.code_executors.local import LocalCommandLineCodeExecutor

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


def make_executor(config: dict[str, Any]) -> CodeExecutor:
    executor = config.get("executor")
    if isinstance(executor, CodeExecutor):
        return executor
    if executor not in (None, "commandline-local"):
        raise ValueError(f"Unsupported code executor {executor!r}: use 'commandline-local' or a CodeExecutor")
    if config.get("use_docker"):
        raise ValueError(
            "Docker code execution is not available in actorgen_agentchat: set "
            "code_execution_config={'use_docker': False, ...} to run code locally (not a sandbox), "
            "or pass a CodeExecutor as 'executor'"
        )
    if "use_docker" not in config and not _warned_local_execution:
        _warn_local_execution()
    options = dict(config.get("commandline-local") or {})
    options.setdefault("work_dir", config.get("work_dir"))
    options.setdefault("timeout", config.get("timeout", 600))
    options.setdefault("cleanup_temp_files", False)
    return LocalCommandLineCodeExecutor(**options)


_warned_local_execution = False


def _warn_local_execution() -> None:
    global _warned_local_execution
    _warned_local_execution = True
    warnings.warn(
        "code_execution_config without 'use_docker': code runs locally as the current user (not in a sandbox; "
        "v0.2 defaulted to Docker). Say use_docker=False to silence this, or code_execution_config=False to "
        "disable code execution.",
        UserWarning,
        stacklevel=4,
    )
