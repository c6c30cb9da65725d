"""FunctionTool: a tool made from a plain Python function and its type hints."""

from __future__ import annotations

import ast
import asyncio
import contextvars
import functools
import importlib
import inspect
import os
import textwrap
import warnings
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Self

from pydantic import BaseModel

from ..base import CancellationToken
from ..base._component_config import Component
from ..code_executor._func_with_reqs import Alias, Import, ImportFromModule, to_code
from ._base import BaseTool
from ._function_utils import (
    args_base_model_from_signature,
    cancellation_parameters,
    function_name,
    get_typed_signature,
    normalize_annotated_type,
)

__all__ = [
    "FunctionTool",
    "FunctionToolConfig",
    "FUNCTION_TOOL_SOURCE_ENV",
    "allow_function_tool_source",
]

FUNCTION_TOOL_SOURCE_ENV = "ACTORGEN_ALLOW_FUNCTION_TOOL_SOURCE"
"""Set to ``1`` to let ``FunctionTool`` configs (which carry source code) be loaded everywhere in the process."""

_source_loading_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "actorgen_function_tool_source", default=False
)


@contextmanager
def allow_function_tool_source() -> Generator[None, None, None]:
    """Allow loading ``FunctionTool`` configs inside this block (in this context only).

    Loading such a config executes the Python source it contains: use this only for configs
    you wrote or otherwise trust.
    """
    reset = _source_loading_allowed.set(True)
    try:
        yield
    finally:
        _source_loading_allowed.reset(reset)


def _source_loading_is_allowed() -> bool:
    return _source_loading_allowed.get() or os.environ.get(FUNCTION_TOOL_SOURCE_ENV, "") == "1"


class FunctionToolConfig(BaseModel):
    """A FunctionTool as data: the function's source code and the imports it needs."""

    source_code: str
    name: str
    description: str
    global_imports: Sequence[Import]
    has_cancellation_support: bool
    strict: bool = False


class FunctionTool(BaseTool[BaseModel, BaseModel], Component[FunctionToolConfig]):
    """A tool that calls a Python function.

    The parameters schema comes from the function's type hints: defaults make a parameter
    optional, ``Annotated[T, "description"]`` describes it, and a parameter named
    ``cancellation_token`` (or annotated ``CancellationToken``) receives the run's token
    instead of appearing in the schema.
    Coroutine functions are awaited; other functions run in a worker thread. Cancelling the
    token cancels the run (a running thread cannot be stopped, but its result is dropped).
    """

    component_provider_override = "actorgen_core.tools.FunctionTool"
    component_config_schema = FunctionToolConfig

    def __init__(
        self,
        func: Callable[..., Any],
        description: str,
        name: str | None = None,
        global_imports: Sequence[Import] = [],
        strict: bool = False,
    ) -> None:
        self._func = func
        self._global_imports = global_imports
        self._source_code: str | None = None  # set when built from a config: inspect cannot find it
        self._signature = get_typed_signature(func)
        func_name = name or function_name(func)
        args_model = args_base_model_from_signature(func_name + "args", self._signature)
        return_type = self._signature.return_annotation
        if return_type is inspect.Signature.empty:
            return_type = Any
        elif return_type is None:
            return_type = type(None)
        self._token_parameters = cancellation_parameters(self._signature)
        self._has_cancellation_support = bool(self._token_parameters)
        self._positional_only = [
            p.name for p in self._signature.parameters.values() if p.kind is inspect.Parameter.POSITIONAL_ONLY
        ]
        super().__init__(args_model, normalize_annotated_type(return_type), func_name, description, strict)

    async def run(self, args: BaseModel, cancellation_token: CancellationToken) -> Any:
        # Field values as validated: a pydantic-model parameter gets a model instance, not a dict.
        kwargs = {field: getattr(args, field) for field in type(args).model_fields}
        for name in self._token_parameters:
            kwargs[name] = cancellation_token
        positional = [kwargs.pop(name) for name in self._positional_only if name in kwargs]
        if inspect.iscoroutinefunction(self._func):
            future: asyncio.Future[Any] = asyncio.ensure_future(self._func(*positional, **kwargs))
        else:
            # The thread sees the caller's context (current agent, tracing span).
            context = contextvars.copy_context()
            call = functools.partial(context.run, self._func, *positional, **kwargs)
            future = asyncio.get_running_loop().run_in_executor(None, call)
        cancellation_token.link_future(future)
        return await future

    def _to_config(self) -> FunctionToolConfig:
        return FunctionToolConfig(
            source_code=self._source_code if self._source_code is not None else to_code(self._func),
            name=self.name,
            description=self.description,
            global_imports=list(self._global_imports),
            has_cancellation_support=self._has_cancellation_support,
            strict=self._strict,
        )

    @classmethod
    def _from_config(cls, config: FunctionToolConfig) -> Self:
        """Rebuild the function by executing its source: refused unless explicitly allowed."""
        if not _source_loading_is_allowed():
            raise ValueError(
                f"Refusing to load FunctionTool {config.name!r}: its config carries Python source code that would "
                f"be executed. If you trust this config, load it inside "
                f"actorgen_core.tools.allow_function_tool_source() or set {FUNCTION_TOOL_SOURCE_ENV}=1"
            )
        warnings.warn(
            f"Loading FunctionTool {config.name!r} executes the Python source code in its config",
            UserWarning,
            stacklevel=2,
        )
        namespace: dict[str, Any] = {}
        for im in config.global_imports:
            _bind_import(im, namespace)
        func_name = _defined_function_name(config.source_code)
        try:
            code = compile(textwrap.dedent(config.source_code), f"<FunctionTool {config.name}>", "exec")
            exec(code, namespace)  # the caller explicitly allowed this, see above
        except Exception as e:
            raise ValueError(f"Could not execute the source code of FunctionTool {config.name!r}: {e}") from e
        tool = cls(
            namespace[func_name],
            description=config.description,
            name=config.name,
            global_imports=config.global_imports,
            strict=config.strict,
        )
        tool._source_code = config.source_code
        return tool


def _defined_function_name(source: str) -> str:
    try:
        module = ast.parse(textwrap.dedent(source))
    except SyntaxError as e:
        raise ValueError(f"FunctionTool source code does not parse: {e}") from e
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node.name
    raise ValueError("FunctionTool source code defines no function")


def _import(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise RuntimeError(f"FunctionTool global import failed: {e}") from e


def _bind_import(im: Import, namespace: dict[str, Any]) -> None:
    """Bind what ``import_to_str(im)`` would bind, using importlib rather than executing a statement."""
    if isinstance(im, str):
        _import(im)
        top = im.split(".", 1)[0]
        namespace[top] = _import(top)
    elif isinstance(im, Alias):
        namespace[im.alias] = _import(im.name)
    elif isinstance(im, ImportFromModule):
        module = _import(im.module)
        for item in im.imports:
            name, bound_as = (item, item) if isinstance(item, str) else (item.name, item.alias)
            if hasattr(module, name):
                namespace[bound_as] = getattr(module, name)
            else:
                namespace[bound_as] = _import(f"{im.module}.{name}")
    else:
        raise RuntimeError(f"Unsupported global import {im!r}")
