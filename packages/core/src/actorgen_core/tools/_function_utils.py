"""Derive a pydantic arguments model from a Python function's signature."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, Field, create_model

from ..base import CancellationToken

__all__ = [
    "CANCELLATION_TOKEN_PARAMETER",
    "get_typed_signature",
    "normalize_annotated_type",
    "args_base_model_from_signature",
    "cancellation_parameters",
    "function_name",
]

CANCELLATION_TOKEN_PARAMETER = "cancellation_token"
"""A parameter of this name receives the run's CancellationToken and is hidden from the model."""


def function_name(func: Callable[..., Any]) -> str:
    target: Any = func
    while isinstance(target, functools.partial):
        target = target.func
    return str(getattr(target, "__name__", type(target).__name__))


def _unwrap_partial(func: Callable[..., Any]) -> Any:
    target: Any = func
    while isinstance(target, functools.partial):
        target = target.func
    if not (inspect.isfunction(target) or inspect.ismethod(target)) and callable(target):
        target = getattr(target, "__call__", target)  # noqa: B004 - a callable object: its __call__ has the hints
    return target


def get_typed_signature(call: Callable[..., Any]) -> inspect.Signature:
    """The signature of ``call`` with string annotations resolved (``Annotated`` metadata kept).

    Raises:
        TypeError: an annotation names something that cannot be resolved.
    """
    signature = inspect.signature(call)
    try:
        hints = typing.get_type_hints(_unwrap_partial(call), include_extras=True)
    except Exception as e:
        raise TypeError(f"Cannot resolve the type annotations of {function_name(call)!r}: {e}") from e
    parameters = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    return_annotation = hints.get("return", signature.return_annotation)
    return signature.replace(parameters=parameters, return_annotation=return_annotation)


def normalize_annotated_type(annotation: Any) -> Any:
    """``Annotated[T, ...]`` becomes ``T``; anything else is returned as is."""
    if get_origin(annotation) is Annotated:
        return get_args(annotation)[0]
    return annotation


def _split_description(annotation: Any) -> tuple[Any, str | None]:
    """Take a string description out of ``Annotated[T, "description", ...]``, keeping other metadata."""
    if get_origin(annotation) is not Annotated:
        return annotation, None
    inner, *metadata = get_args(annotation)
    descriptions = [m for m in metadata if isinstance(m, str)]
    others = [m for m in metadata if not isinstance(m, str)]
    description = descriptions[0] if descriptions else None
    if others:
        return Annotated[(inner, *others)], description
    return inner, description


def _is_cancellation_parameter(parameter: inspect.Parameter) -> bool:
    return parameter.name == CANCELLATION_TOKEN_PARAMETER or parameter.annotation is CancellationToken


def cancellation_parameters(signature: inspect.Signature) -> list[str]:
    """Parameters that receive the run's token: the one named ``cancellation_token``, and any
    annotated ``CancellationToken``. They are left out of the arguments model."""
    return [
        p.name
        for p in signature.parameters.values()
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        and _is_cancellation_parameter(p)
    ]


def args_base_model_from_signature(name: str, signature: inspect.Signature) -> type[BaseModel]:
    """A pydantic model with one field per parameter (``*args``, ``**kwargs`` and the token left out).

    The field description comes from ``Annotated[T, "description"]``, else it is the parameter name.
    """
    fields: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        if _is_cancellation_parameter(parameter):
            continue
        raw = Any if parameter.annotation is inspect.Parameter.empty else parameter.annotation
        annotation, description = _split_description(raw)
        description = description or parameter.name
        if parameter.default is inspect.Parameter.empty:
            fields[parameter.name] = (annotation, Field(..., description=description))
        else:
            fields[parameter.name] = (annotation, Field(default=parameter.default, description=description))
    model: type[BaseModel] = create_model(name, **fields)
    return model
