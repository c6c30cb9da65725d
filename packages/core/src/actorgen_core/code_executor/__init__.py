"""Code execution: the executor interface, code blocks and results, and functions with requirements."""

from ..components._code_executor.executor import CodeBlock, CodeExecutor, CodeResult
from ..components._code_executor.func_with_reqs import (
    Alias,
    FunctionWithRequirements,
    FunctionWithRequirementsStr,
    Import,
    ImportFromModule,
    with_requirements,
)

__all__ = [
    "CodeBlock",
    "CodeExecutor",
    "CodeResult",
    "Alias",
    "ImportFromModule",
    "Import",
    "FunctionWithRequirements",
    "FunctionWithRequirementsStr",
    "with_requirements",
]
