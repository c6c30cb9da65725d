"""Run Python and shell code blocks as local subprocesses.

NOT A SANDBOX. The code runs as the current user, with the current user's files, network and
environment variables. The working directory only decides where files are written by default;
nothing stops code from reading or writing elsewhere. Use a container or VM-based executor for
code you do not trust.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from types import SimpleNamespace
from typing import Any, ClassVar, Self

from pydantic import BaseModel

from actorgen_core import CancellationToken, Component
from actorgen_core.code_executor import (
    CodeBlock,
    CodeExecutor,
    CodeResult,
    FunctionWithRequirements,
    FunctionWithRequirementsStr,
    build_python_functions_file,
    to_stub,
)

from ._process import Outcome, OutputBuffer, run_process_group

__all__ = [
    "CommandLineCodeResult",
    "LocalCommandLineCodeExecutor",
    "LocalCommandLineCodeExecutorConfig",
]

TIMEOUT_EXIT_CODE = 124
"""Exit code reported when a block ran past the timeout (the one coreutils' ``timeout`` uses)."""
CANCELLED_EXIT_CODE = 125
"""Exit code reported when the cancellation token stopped a block."""
UNSUPPORTED_EXIT_CODE = 1

_PYTHON_ALIASES = frozenset({"python", "py", "python3"})
_SH_ALIASES = frozenset({"sh", "shell"})
_BASH_ALIASES = frozenset({"bash"})
_POWERSHELL_ALIASES = frozenset({"pwsh", "powershell", "ps1"})
_FILENAME_COMMENT = re.compile(r"^\s*(?:#|//|--|<!--)\s*filename:\s*(\S+?)\s*(?:-->)?\s*$", re.IGNORECASE)

_FUNCTION_PROMPT = """You can call these Python functions by importing them from the module `$module_name`:

$functions

For example: `from $module_name import <function name>`."""


@dataclass
class CommandLineCodeResult(CodeResult):
    """A :class:`CodeResult` plus the file the (first) code block was written to."""

    code_file: str | None


class LocalCommandLineCodeExecutorConfig(BaseModel):
    """The serializable configuration of :class:`LocalCommandLineCodeExecutor` (functions are not serialized)."""

    timeout: float = 60
    work_dir: str | None = None
    functions_module: str = "functions"
    cleanup_temp_files: bool = True
    max_output_bytes: int = 256 * 1024


def _file_name_from_comment(code: str) -> str | None:
    first_line = code.lstrip("\n").split("\n", 1)[0]
    match = _FILENAME_COMMENT.match(first_line)
    return match.group(1) if match else None


class LocalCommandLineCodeExecutor(CodeExecutor, Component[LocalCommandLineCodeExecutorConfig]):
    """Runs Python and shell code blocks as subprocesses in a working directory.

    **This is not a sandbox**: the code runs as the current user with full access to the
    machine. Only give it code you would run yourself.

    All blocks are checked first: an unsupported language (or a file name outside the working
    directory) gives exit code 1 and a message, and no block runs. Each block is written to a
    file in the working directory (named by a first-line ``# filename: <name>`` comment, else
    ``tmp_code_<sha256>.<ext>``) and run with the current Python (``sys.executable``, or the
    interpreter of ``virtual_env_context``), ``sh``, ``bash`` or ``pwsh``, in its own process
    group. Blocks run in order and the first non-zero exit stops the run. An exit, timeout
    (exit code 124) or cancellation (exit code 125) of a block kills its whole process group, so
    background processes it started do not outlive it. stdout and stderr are captured together,
    in the order they were written (``PYTHONUNBUFFERED=1`` is set for Python).

    Args:
        timeout: seconds each block may run; then its process group is killed and the result has
            exit code 124.
        work_dir: where code files are written and run. Default: a fresh temporary directory,
            created by :meth:`start` and deleted by :meth:`stop`. A directory you name is created
            if missing and never deleted.
        functions: functions to expose to the code as the module ``functions_module``.
        functions_module: the module name the functions are importable as.
        cleanup_temp_files: delete the code files after each run.
        virtual_env_context: a ``venv.EnvBuilder().ensure_directories(...)`` context whose
            interpreter and ``bin`` directory are used.
        max_output_bytes: output beyond this many bytes (over all blocks of one call) is dropped and
            a ``[output truncated: N more bytes]`` marker is appended.
    """

    component_type = "code_executor"
    component_config_schema = LocalCommandLineCodeExecutorConfig
    component_provider_override = "actorgen_ext.code_executors.local.LocalCommandLineCodeExecutor"

    SUPPORTED_LANGUAGES: ClassVar[list[str]] = ["bash", "shell", "sh", "pwsh", "powershell", "ps1", "python"]
    FUNCTION_PROMPT_TEMPLATE: ClassVar[str] = _FUNCTION_PROMPT

    def __init__(
        self,
        timeout: float = 60,
        work_dir: Path | str | None = None,
        functions: Sequence[FunctionWithRequirements[Any, Any] | Callable[..., Any] | FunctionWithRequirementsStr] = (),
        functions_module: str = "functions",
        cleanup_temp_files: bool = True,
        virtual_env_context: SimpleNamespace | None = None,
        *,
        max_output_bytes: int = 256 * 1024,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        if not functions_module.isidentifier():
            raise ValueError(f"functions_module must be a valid Python identifier, got {functions_module!r}")
        if max_output_bytes < 0:
            raise ValueError(f"max_output_bytes must be >= 0, got {max_output_bytes}")
        self._timeout = timeout
        self._user_work_dir = Path(work_dir) if work_dir is not None else None
        self._temp_dir: Path | None = None
        self._functions = list(functions)
        self._functions_module = functions_module
        self._functions_ready = not self._functions
        self._cleanup_temp_files = cleanup_temp_files
        self._virtual_env_context = virtual_env_context
        self._max_output_bytes = max_output_bytes
        self._started = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(work_dir={str(self._user_work_dir or self._temp_dir)!r}, timeout={self._timeout})"
        )

    # -- properties --------------------------------------------------------------------------

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def work_dir(self) -> Path:
        """The working directory (a temporary one is created on first use when none was given)."""
        if self._user_work_dir is not None:
            return self._user_work_dir
        if self._temp_dir is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="actorgen_code_"))
        return self._temp_dir

    @property
    def functions(self) -> list[str]:
        return [_function_name(f) for f in self._functions]

    @property
    def functions_module(self) -> str:
        return self._functions_module

    @property
    def cleanup_temp_files(self) -> bool:
        return self._cleanup_temp_files

    @property
    def max_output_bytes(self) -> int:
        return self._max_output_bytes

    def format_functions_for_prompt(self, prompt_template: str = FUNCTION_PROMPT_TEMPLATE) -> str:
        """Describe the exposed functions (their stubs) for a system prompt."""
        stubs = "\n\n".join(to_stub(f) for f in self._functions)
        return Template(prompt_template).substitute(module_name=self._functions_module, functions=stubs)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._started = True

    async def stop(self) -> None:
        """Delete the temporary working directory, if this executor created one."""
        self._started = False
        temp_dir, self._temp_dir = self._temp_dir, None
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
            self._functions_ready = not self._functions

    async def restart(self) -> None:
        """Stop, then start: a temporary working directory is replaced by a fresh one."""
        await self.stop()
        await self.start()

    # -- running -----------------------------------------------------------------------------

    def _python(self) -> str:
        if self._virtual_env_context is not None:
            return str(self._virtual_env_context.env_exe)
        return sys.executable

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        if self._virtual_env_context is not None:
            env["PATH"] = f"{self._virtual_env_context.bin_path}{os.pathsep}{env.get('PATH', '')}"
            env["VIRTUAL_ENV"] = str(getattr(self._virtual_env_context, "env_dir", ""))
        return env

    def _command(self, language: str) -> tuple[list[str], str] | str:
        """(argv prefix, file extension) for a language, or the reason it cannot run."""
        if language in _PYTHON_ALIASES:
            return [self._python()], "py"
        if language in _SH_ALIASES:
            return ["sh"], "sh"
        if language in _BASH_ALIASES:
            return [shutil.which("bash") or "sh"], "sh"
        if language in _POWERSHELL_ALIASES:
            pwsh = shutil.which("pwsh") or shutil.which("powershell")
            if pwsh is None:
                return "PowerShell (pwsh) is not installed on this machine"
            return [pwsh, "-NoProfile", "-NonInteractive", "-File"], "ps1"
        return (
            f"Unsupported language {language!r}: this executor runs "
            f"{', '.join(sorted(_PYTHON_ALIASES | _SH_ALIASES | _BASH_ALIASES | _POWERSHELL_ALIASES))}"
        )

    def _code_path(self, block: CodeBlock, extension: str) -> Path | str:
        """Where to write ``block``, or the reason it may not be written."""
        work_dir = self.work_dir.resolve()
        name = _file_name_from_comment(block.code)
        if name is None:
            digest = hashlib.sha256(block.code.encode()).hexdigest()
            return work_dir / f"tmp_code_{digest}.{extension}"
        path = (work_dir / name).resolve()
        if not path.is_relative_to(work_dir):
            return f"File name {name!r} (from the code's filename comment) is outside the working directory"
        return path

    async def _prepare_functions(self, output: OutputBuffer, cancellation_token: CancellationToken) -> int:
        """Write the functions module and install its packages; the exit code of that (0 = ready)."""
        if self._functions_ready:
            return 0
        (self.work_dir / f"{self._functions_module}.py").write_text(build_python_functions_file(self._functions))
        packages = sorted({p for f in self._functions for p in _packages_of(f)})
        if packages:
            result = await run_process_group(
                [self._python(), "-m", "pip", "install", "--quiet", *packages],
                cwd=self.work_dir,
                env=self._environment(),
                timeout=self._timeout,
                output=output,
                cancellation_token=cancellation_token,
            )
            if result.outcome is not Outcome.EXITED or result.returncode != 0:
                return result.returncode or UNSUPPORTED_EXIT_CODE
        self._functions_ready = True
        return 0

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CommandLineCodeResult:
        """Run the blocks in order; stop at the first one that fails, times out or is cancelled."""
        if not self._started:
            await self.start()
        output = OutputBuffer(self._max_output_bytes)
        notes: list[str] = []
        written: list[Path] = []
        # Every block is checked before any runs: a bad language or file name runs nothing.
        plan: list[tuple[CodeBlock, list[str], Path]] = []
        for block in code_blocks:
            command = self._command(block.language.strip().lower())
            if isinstance(command, str):
                return CommandLineCodeResult(exit_code=UNSUPPORTED_EXIT_CODE, output=command, code_file=None)
            argv, extension = command
            path = self._code_path(block, extension)
            if isinstance(path, str):
                return CommandLineCodeResult(exit_code=UNSUPPORTED_EXIT_CODE, output=path, code_file=None)
            plan.append((block, argv, path))
        exit_code = 0
        try:
            exit_code = await self._prepare_functions(output, cancellation_token)
            if exit_code != 0:
                notes.append(f"Installing the packages of the functions failed (exit code {exit_code})")
            for block, argv, path in plan if exit_code == 0 else ():
                if cancellation_token.is_cancelled():
                    exit_code = CANCELLED_EXIT_CODE
                    notes.append("Cancelled")
                    break
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(block.code, encoding="utf-8")
                written.append(path)
                result = await run_process_group(
                    [*argv, str(path)],
                    cwd=self.work_dir,
                    env=self._environment(),
                    timeout=self._timeout,
                    output=output,
                    cancellation_token=cancellation_token,
                )
                if result.outcome is Outcome.TIMED_OUT:
                    exit_code = TIMEOUT_EXIT_CODE
                    notes.append(f"Timeout: the code ran longer than {self._timeout}s and was killed")
                    break
                if result.outcome is Outcome.CANCELLED:
                    exit_code = CANCELLED_EXIT_CODE
                    notes.append("Cancelled")
                    break
                exit_code = result.returncode if result.returncode is not None else UNSUPPORTED_EXIT_CODE
                if exit_code != 0:
                    break
        finally:
            if self._cleanup_temp_files:
                for path in written:
                    path.unlink(missing_ok=True)
        text = output.text()
        if output.truncated:
            text += f"\n[output truncated: {output.dropped} more bytes]"
        for note in notes:
            text += ("\n" if text else "") + note
        return CommandLineCodeResult(exit_code=exit_code, output=text, code_file=str(written[0]) if written else None)

    # -- component config --------------------------------------------------------------------

    def _to_config(self) -> LocalCommandLineCodeExecutorConfig:
        if self._functions:
            warnings.warn(
                "The functions of a LocalCommandLineCodeExecutor are not part of its config; "
                "pass them again after loading",
                stacklevel=2,
            )
        return LocalCommandLineCodeExecutorConfig(
            timeout=self._timeout,
            work_dir=str(self._user_work_dir) if self._user_work_dir is not None else None,
            functions_module=self._functions_module,
            cleanup_temp_files=self._cleanup_temp_files,
            max_output_bytes=self._max_output_bytes,
        )

    @classmethod
    def _from_config(cls, config: LocalCommandLineCodeExecutorConfig) -> Self:
        return cls(
            timeout=config.timeout,
            work_dir=config.work_dir,
            functions_module=config.functions_module,
            cleanup_temp_files=config.cleanup_temp_files,
            max_output_bytes=config.max_output_bytes,
        )


def _function_name(func: FunctionWithRequirements[Any, Any] | Callable[..., Any] | FunctionWithRequirementsStr) -> str:
    if isinstance(func, FunctionWithRequirementsStr):
        return func.name
    if isinstance(func, FunctionWithRequirements):
        return func.func.__name__
    return func.__name__


def _packages_of(
    func: FunctionWithRequirements[Any, Any] | Callable[..., Any] | FunctionWithRequirementsStr,
) -> list[str]:
    if isinstance(func, FunctionWithRequirements | FunctionWithRequirementsStr):
        return list(func.python_packages)
    return []
