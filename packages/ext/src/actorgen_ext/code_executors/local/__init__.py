"""Run code blocks as local subprocesses. Not a sandbox: see :class:`LocalCommandLineCodeExecutor`."""

from ._executor import CommandLineCodeResult, LocalCommandLineCodeExecutor, LocalCommandLineCodeExecutorConfig

__all__ = ["CommandLineCodeResult", "LocalCommandLineCodeExecutor", "LocalCommandLineCodeExecutorConfig"]
