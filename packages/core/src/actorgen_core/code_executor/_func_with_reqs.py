"""Helpers for code executors, at the import path autogen_core uses (``code_executor._func_with_reqs``)."""

from ..components._code_executor.func_with_reqs import (
    Alias,
    FunctionWithRequirements,
    FunctionWithRequirementsStr,
    Import,
    ImportFromModule,
    build_python_functions_file,
    import_to_str,
    to_code,
    to_stub,
    with_requirements,
)

__all__ = [
    "Alias",
    "FunctionWithRequirements",
    "FunctionWithRequirementsStr",
    "Import",
    "ImportFromModule",
    "build_python_functions_file",
    "import_to_str",
    "to_code",
    "to_stub",
    "with_requirements",
]
