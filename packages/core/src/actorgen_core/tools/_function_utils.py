"""From a Python function's signature to what a model sees: an arguments model or a JSON schema.

FunctionTool uses ``get_typed_signature`` and ``args_base_model_from_signature``. The rest are
the helpers code written for autogen_core imports from ``autogen_core._function_utils`` (an
alias of this module): ``get_function_schema`` builds an OpenAI-style function description
from a plain function, and its building blocks are public too.
"""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, Field, TypeAdapter, create_model

from ..base import CancellationToken

__all__ = [
    "CANCELLATION_TOKEN_PARAMETER",
    "Parameters",
    "get_typed_signature",
    "get_typed_return_annotation",
    "get_param_annotations",
    "get_required_params",
    "get_default_values",
    "get_missing_annotations",
    "type2description",
    "get_parameter_json_schema",
    "get_parameters",
    "get_function_schema",
    "normalize_annotated_type",
    "args_base_model_from_signature",
    "cancellation_parameters",
    "function_name",
]

_logger = logging.getLogger(__name__)

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


# -- the function-schema helpers (autogen_core._function_utils)


def get_typed_return_annotation(call: Callable[..., Any]) -> Any:
    """The resolved return annotation of ``call``, or None when it has none."""
    if inspect.signature(call).return_annotation is inspect.Signature.empty:
        return None
    return get_typed_signature(call).return_annotation


def get_param_annotations(typed_signature: inspect.Signature) -> dict[str, Any]:
    """Parameter name -> annotation, for the parameters that have one."""
    parameters = typed_signature.parameters.items()
    return {name: p.annotation for name, p in parameters if p.annotation is not inspect.Parameter.empty}


def get_required_params(typed_signature: inspect.Signature) -> list[str]:
    """Names of the parameters without a default, in order."""
    return [name for name, p in typed_signature.parameters.items() if p.default is inspect.Parameter.empty]


def get_default_values(typed_signature: inspect.Signature) -> dict[str, Any]:
    """Parameter name -> default, for the parameters that have one."""
    parameters = typed_signature.parameters.items()
    return {name: p.default for name, p in parameters if p.default is not inspect.Parameter.empty}


def get_missing_annotations(typed_signature: inspect.Signature, required: list[str]) -> tuple[set[str], set[str]]:
    """Unannotated parameters: ``(required ones, ones with a default)``."""
    unannotated = {name for name, p in typed_signature.parameters.items() if p.annotation is inspect.Parameter.empty}
    required_set = set(required)
    return unannotated & required_set, unannotated - required_set


def type2description(k: str, v: Any) -> str:
    """The description of parameter ``k``: the first metadata of ``Annotated[T, "..."]``, else ``k``.

    Raises:
        ValueError: the first ``Annotated`` metadata is not a string.
    """
    if get_origin(v) is not Annotated:
        return k
    first = get_args(v)[1]
    if not isinstance(first, str):
        raise ValueError(f"Parameter {k!r}: the first Annotated metadata must be a str description, got {first!r}")
    return first


def get_parameter_json_schema(k: str, v: Any, default_values: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of one parameter, with its ``description`` and (if any) its ``default``."""
    schema: dict[str, Any] = TypeAdapter(v).json_schema()
    if k in default_values:
        schema["default"] = default_values[k]
    schema["description"] = type2description(k, v)
    return schema


class Parameters(BaseModel):
    """The ``parameters`` object of an OpenAI-style function description."""

    type: Literal["object"] = "object"
    properties: dict[str, dict[str, Any]]
    required: list[str]


def get_parameters(
    required: list[str], param_annotations: dict[str, Any], default_values: dict[str, Any]
) -> Parameters:
    """The ``parameters`` object for annotated parameters; ``required`` is passed through."""
    return Parameters(
        properties={k: get_parameter_json_schema(k, v, default_values) for k, v in param_annotations.items()},
        required=required,
    )


def get_function_schema(f: Callable[..., Any], *, name: str | None = None, description: str) -> dict[str, Any]:
    """An OpenAI-style tool description of ``f``: ``{"type": "function", "function": {...}}``.

    Every parameter without a default must be annotated; a missing return annotation or an
    unannotated parameter with a default is logged as a warning. ``name`` defaults to the
    function's name.

    Raises:
        TypeError: a parameter without a default has no annotation.
    """
    typed_signature = get_typed_signature(f)
    required = get_required_params(typed_signature)
    missing, unannotated_with_default = get_missing_annotations(typed_signature, required)
    fname = function_name(f)
    if missing:
        raise TypeError(
            f"Every parameter of {fname!r} without a default needs a type annotation; missing for: "
            + ", ".join(sorted(missing))
        )
    if unannotated_with_default:
        _logger.warning(
            "Parameters of %r with a default but no annotation are left out of its schema: %s",
            fname,
            ", ".join(sorted(unannotated_with_default)),
        )
    if get_typed_return_annotation(f) is None:
        _logger.warning("%r has no return annotation; a tool should return a str or a pydantic model", fname)
    parameters = get_parameters(required, get_param_annotations(typed_signature), get_default_values(typed_signature))
    return {
        "type": "function",
        "function": {"description": description, "name": name or fname, "parameters": parameters.model_dump()},
    }
