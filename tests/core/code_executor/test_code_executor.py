import ast

import pytest

from actorgen_core import CancellationToken
from actorgen_core.code_executor import (
    Alias,
    CodeBlock,
    CodeExecutor,
    CodeResult,
    FunctionWithRequirements,
    FunctionWithRequirementsStr,
    ImportFromModule,
    with_requirements,
)
from actorgen_core.code_executor._func_with_reqs import (
    build_python_functions_file,
    import_to_str,
    to_code,
    to_stub,
)


@with_requirements(python_packages=["pandas"], global_imports=[Alias("pandas", "pd"), "math"])
def load(path: str, scale: float = 1.0) -> int:
    """Load a table."""
    return int(math_floor(scale))


def math_floor(x: float) -> float:
    return x // 1


def test_import_rendering_and_hashability() -> None:
    assert import_to_str("os") == "import os"
    assert import_to_str(Alias("numpy", "np")) == "import numpy as np"
    from_import = ImportFromModule("pandas", ["DataFrame", Alias("concat", "cat")])
    assert from_import.imports == ("DataFrame", Alias("concat", "cat"))
    assert import_to_str(from_import) == "from pandas import DataFrame, concat as cat"
    assert len({from_import, ImportFromModule("pandas", ("DataFrame", Alias("concat", "cat")))}) == 1


def test_with_requirements_keeps_callable_and_metadata() -> None:
    assert isinstance(load, FunctionWithRequirements)
    assert load("x", 3.7) == 3
    assert load.python_packages == ["pandas"]
    assert load.__name__ == "load"


def test_build_python_functions_file_is_valid_python_without_decorators() -> None:
    other = FunctionWithRequirements.from_callable(math_floor, global_imports=["math", ImportFromModule("os", ["sep"])])
    text = build_python_functions_file([load, other])
    lines = text.splitlines()
    # Each import once, in first-seen order.
    assert lines[:3] == ["import pandas as pd", "import math", "from os import sep"]
    assert "@with_requirements" not in text
    tree = ast.parse(text)
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["load", "math_floor"]


def test_function_from_str_is_parsed_not_run() -> None:
    source = "def double(x: int) -> int:\n    '''Twice x.'''\n    raise SystemExit('must not run')\n"
    func = FunctionWithRequirements.from_str(source, global_imports=["json"])
    assert isinstance(func, FunctionWithRequirementsStr)
    assert func.name == "double"
    with pytest.raises(NotImplementedError):
        func(2)
    assert to_code(func) == source
    assert build_python_functions_file([func]).startswith("import json\n\ndef double")


@pytest.mark.parametrize(
    "source",
    ["x = 1", "def a():\n    pass\ndef b():\n    pass\n", "def broken(:\n"],
)
def test_function_from_str_requires_exactly_one_function(source: str) -> None:
    with pytest.raises(ValueError):
        FunctionWithRequirementsStr(source)


def test_to_stub_keeps_signature_and_docstring_only() -> None:
    stub = to_stub(load.func)
    assert stub.startswith("def load(path: str, scale: float=1.0) -> int:")
    assert "Load a table." in stub
    assert "math_floor" not in stub
    assert stub.rstrip().endswith("...")


class EchoExecutor(CodeExecutor):
    def __init__(self) -> None:
        self.events: list[str] = []

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        return CodeResult(exit_code=0, output="".join(b.code for b in code_blocks))

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")

    async def restart(self) -> None:
        self.events.append("restart")


async def test_code_executor_context_manager_starts_and_stops() -> None:
    executor = EchoExecutor()
    async with executor as entered:
        assert entered is executor
        blocks = [CodeBlock("a", "python"), CodeBlock("b", "sh")]
        result = await executor.execute_code_blocks(blocks, CancellationToken())
    assert result == CodeResult(exit_code=0, output="ab")
    assert executor.events == ["start", "stop"]
    assert EchoExecutor.component_type == "code_executor"


def test_code_executor_is_abstract() -> None:
    with pytest.raises(TypeError):
        CodeExecutor()  # type: ignore[abstract]
