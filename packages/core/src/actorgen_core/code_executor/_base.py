"""The code executor interface: run code blocks, get an exit code and the output."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from pydantic import BaseModel

from ..base import CancellationToken
from ..base._component_config import ComponentBase

__all__ = ["CodeBlock", "CodeResult", "CodeExecutor"]


@dataclass
class CodeBlock:
    """A piece of code and the language it is written in (e.g. ``python``, ``sh``)."""

    code: str
    language: str


@dataclass
class CodeResult:
    """What running code blocks produced: the exit code and the combined output."""

    exit_code: int
    output: str


class CodeExecutor(ABC, ComponentBase[BaseModel]):
    """Runs code blocks, for example in a local subprocess or a container.

    Executors may hold resources: use them as async context managers (``start`` on enter,
    ``stop`` on exit) or call :meth:`start` and :meth:`stop` yourself.
    """

    component_type = "code_executor"

    @abstractmethod
    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        """Run the blocks in order and report the result; the token cancels the run."""

    @abstractmethod
    async def start(self) -> None:
        """Acquire what the executor needs (a working directory, a container, ...)."""

    @abstractmethod
    async def stop(self) -> None:
        """Release what :meth:`start` acquired."""

    @abstractmethod
    async def restart(self) -> None:
        """Reset the executor to a fresh state."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.stop()
