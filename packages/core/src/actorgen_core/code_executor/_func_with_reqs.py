"""Functions bundled with the packages and imports they need, for code executors to expose to code.

An executor writes the functions into a module (:func:`build_python_functions_file`) that the
executed code can import, and shows their stubs (:func:`to_stub`) to the model.
Function source given as a string is parsed, never executed here.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from typing_extensions import ParamSpec

__all__ = [
    "Alias",
    "ImportFromModule",
    "Import",
    "FunctionWithRequirements",
    "FunctionWithRequirementsStr",
    "with_requirements",
    "build_python_functions_file",
    "to_stub",
    "to_code",
    "import_to_str",
]

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class Alias:
    """``import <name> as <alias>`` (or ``<name> as <alias>`` inside :class:`ImportFromModule`)."""

    name: str
    alias: str


@dataclass(frozen=True)
class ImportFromModule:
    """``from <module> import <imports...>``."""

    module: str
    imports: tuple[str | Alias, ...]

    def __init__(self, module: str, imports: tuple[str | Alias, ...] | list[str | Alias]) -> None:
        # Frozen (hashable, so imports can be de-duplicated) yet accepting a list.
        object.__setattr__(self, "module", module)
        object.__setattr__(self, "imports", tuple(imports))


Import = str | ImportFromModule | Alias


def _alias_str(im: str | Alias) -> str:
    return im if isinstance(im, str) else f"{im.name} as {im.alias}"


def import_to_str(im: Import) -> str:
    """The import statement for ``im``."""
    if isinstance(im, str):
        return f"import {im}"
    if isinstance(im, Alias):
        return f"import {im.name} as {im.alias}"
    return f"from {im.module} import {', '.join(_alias_str(i) for i in im.imports)}"


@dataclass
class FunctionWithRequirements(Generic[T, P]):
    """A Python function plus the pip packages and global imports its source needs."""

    func: Callable[P, T]
    python_packages: Sequence[str] = field(default_factory=list)
    global_imports: Sequence[Import] = field(default_factory=list)

    @classmethod
    def from_callable(
        cls,
        func: Callable[P, T],
        python_packages: Sequence[str] = [],
        global_imports: Sequence[Import] = [],
    ) -> FunctionWithRequirements[T, P]:
        return cls(func=func, python_packages=python_packages, global_imports=global_imports)

    @staticmethod
    def from_str(
        func: str,
        python_packages: Sequence[str] = [],
        global_imports: Sequence[Import] = [],
    ) -> FunctionWithRequirementsStr:
        return FunctionWithRequirementsStr(func=func, python_packages=python_packages, global_imports=global_imports)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.func(*args, **kwargs)


class FunctionWithRequirementsStr:
    """A function given as source text (exactly one top-level ``def``), plus its requirements.

    The source is parsed to check it, not executed; calling the object raises NotImplementedError
    because the function only exists inside a code executor.
    """

    func: str
    python_packages: Sequence[str]
    global_imports: Sequence[Import]

    def __init__(
        self,
        func: str,
        python_packages: Sequence[str] = [],
        global_imports: Sequence[Import] = [],
    ) -> None:
        self.func = func
        self.python_packages = python_packages
        self.global_imports = global_imports
        try:
            module = ast.parse(textwrap.dedent(func))
        except SyntaxError as e:
            raise ValueError(f"Function source does not parse: {e}") from e
        functions = [node for node in module.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        if len(functions) != 1:
            raise ValueError(f"Function source must define exactly one function, found {len(functions)}")
        self._func_name = functions[0].name

    @property
    def name(self) -> str:
        return self._func_name

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("A function given as source text can only be called inside a code executor")


def with_requirements(
    python_packages: Sequence[str] = [],
    global_imports: Sequence[Import] = [],
) -> Callable[[Callable[P, T]], FunctionWithRequirements[T, P]]:
    """Decorator: attach the pip packages and global imports the function's source needs."""

    def wrapper(func: Callable[P, T]) -> FunctionWithRequirements[T, P]:
        wrapped = FunctionWithRequirements.from_callable(func, python_packages, global_imports)
        functools.update_wrapper(wrapped, func)
        return wrapped

    return wrapper


def _function_def(source: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    module = ast.parse(textwrap.dedent(source))
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node
    raise ValueError("No function definition found in the source")


def to_code(func: FunctionWithRequirements[Any, Any] | Callable[..., Any] | FunctionWithRequirementsStr) -> str:
    """The source of the function, without its decorators."""
    if isinstance(func, FunctionWithRequirementsStr):
        return textwrap.dedent(func.func)
    target = func.func if isinstance(func, FunctionWithRequirements) else func
    source = textwrap.dedent(inspect.getsource(target))
    node = _function_def(source)
    # Decorators (e.g. @with_requirements) would not resolve in the generated module.
    lines = source.splitlines()
    return "\n".join(lines[node.lineno - 1 :])


def to_stub(func: Callable[..., Any] | FunctionWithRequirementsStr) -> str:
    """The function's signature and docstring with ``...`` as the body."""
    node = _function_def(to_code(func))
    docstring = ast.get_docstring(node, clean=False)
    body: list[ast.stmt] = []
    if docstring is not None:
        body.append(ast.Expr(value=ast.Constant(value=docstring)))
    body.append(ast.Expr(value=ast.Constant(value=Ellipsis)))
    node.body = body
    node.decorator_list = []
    return ast.unparse(node)


def build_python_functions_file(
    funcs: Sequence[FunctionWithRequirements[Any, Any] | Callable[..., Any] | FunctionWithRequirementsStr],
) -> str:
    """A module's source: the functions' global imports (each once, in first-seen order), then the functions."""
    imports: dict[Import, None] = {}
    for func in funcs:
        if isinstance(func, FunctionWithRequirements | FunctionWithRequirementsStr):
            imports.update(dict.fromkeys(func.global_imports))
    content = "\n".join(import_to_str(im) for im in imports) + "\n\n"
    for func in funcs:
        content += to_code(func) + "\n\n"
    return content
