"""Code execution: the executor interface, code blocks and results, and functions with requirements."""

from ..base._public_module import set_public_module
from ._base import CodeBlock, CodeExecutor, CodeResult
from ._func_with_reqs import (
    Alias,
    FunctionWithRequirements,
    FunctionWithRequirementsStr,
    Import,
    ImportFromModule,
    build_python_functions_file,
    to_stub,
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
    # actorgen's own: what an executor needs to make functions importable by the code it runs
    # (autogen_ext reaches into autogen_core.code_executor._func_with_reqs for these).
    "build_python_functions_file",
    "to_stub",
]

set_public_module(__name__, globals())
