"""Build a pydantic model from a JSON Schema (e.g. a tool's parameters received from an MCP server)."""

from __future__ import annotations

import datetime
import importlib.util
import ipaddress
from decimal import Decimal
from typing import Annotated, Any, ForwardRef, Literal, Union

from pydantic import (
    UUID1,
    UUID3,
    UUID4,
    UUID5,
    AnyUrl,
    BaseModel,
    Field,
    Json,
    SecretStr,
    create_model,
)

__all__ = [
    "SchemaConversionError",
    "ReferenceNotFoundError",
    "FormatNotSupportedError",
    "UnsupportedKeywordError",
    "TYPE_MAPPING",
    "FORMAT_MAPPING",
    "schema_to_pydantic_model",
]


class SchemaConversionError(Exception):
    """The schema cannot be turned into a pydantic model."""


class ReferenceNotFoundError(SchemaConversionError):
    """A ``$ref`` points to nothing in the schema."""


class FormatNotSupportedError(SchemaConversionError):
    """A ``format`` that has no matching Python type."""


class UnsupportedKeywordError(SchemaConversionError):
    """A schema construct this converter does not handle (an unknown ``type``, or none at all)."""


TYPE_MAPPING: dict[str, Any] = {
    "string": str,
    "integer": int,
    "boolean": bool,
    "number": float,
    "array": list,
    "object": dict,
    "null": type(None),
}


def _email_type() -> Any:
    # pydantic's EmailStr needs the optional email-validator package; without it, check the shape only.
    if importlib.util.find_spec("email_validator") is not None:
        from pydantic import EmailStr

        return EmailStr
    return Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


FORMAT_MAPPING: dict[str, Any] = {
    "uuid": UUID4,
    "uuid1": UUID1,
    "uuid2": UUID4,
    "uuid3": UUID3,
    "uuid4": UUID4,
    "uuid5": UUID5,
    "email": _email_type(),
    "uri": AnyUrl,
    "hostname": Annotated[str, Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9-]{1,63})*$")],
    "ipv4": ipaddress.IPv4Address,
    "ipv6": ipaddress.IPv6Address,
    "ipv4-network": ipaddress.IPv4Network,
    "ipv6-network": ipaddress.IPv6Network,
    "date": datetime.date,
    "time": datetime.time,
    "date-time": datetime.datetime,
    "duration": datetime.timedelta,
    "int32": Annotated[int, Field(ge=-(2**31), le=2**31 - 1)],
    "int64": Annotated[int, Field(ge=-(2**63), le=2**63 - 1)],
    "float": float,
    "double": float,
    "decimal": Decimal,
    "byte": bytes,
    "binary": bytes,
    "password": SecretStr,
    "path": str,
    "json": Json,
}

_CONSTRAINTS = {
    "string": {"minLength": "min_length", "maxLength": "max_length", "pattern": "pattern"},
    "integer": {
        "minimum": "ge",
        "maximum": "le",
        "exclusiveMinimum": "gt",
        "exclusiveMaximum": "lt",
        "multipleOf": "multiple_of",
    },
    "array": {"minItems": "min_length", "maxItems": "max_length"},
}
_CONSTRAINTS["number"] = _CONSTRAINTS["integer"]


class _JSONSchemaToPydantic:
    """One conversion at a time: named definitions become models, created once each."""

    def __init__(self) -> None:
        self._root: dict[str, Any] = {}
        self._models: dict[str, Any] = {}
        self._building: set[str] = set()
        self._recursive = False
        self._root_name = ""

    def json_schema_to_pydantic(
        self, schema: dict[str, Any], model_name: str = "GeneratedModel", root_schema: dict[str, Any] | None = None
    ) -> type[BaseModel]:
        self._root = root_schema if root_schema is not None else schema
        self._root_name = model_name
        self._models = {}
        self._building = set()
        self._recursive = False
        if "$ref" in schema and not self._is_object_with_properties(schema):
            # The root only names one of its definitions (`{"$defs": {...}, "$ref": "#/$defs/X"}`,
            # what pydantic emits for a self-referencing model): the model is that definition.
            model = self._ref_type(schema["$ref"])
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                raise UnsupportedKeywordError(f"The root $ref {schema['$ref']!r} does not name an object schema")
        else:
            # Registered while it is built, so that a `"$ref": "#"` inside it is a forward reference.
            self._building.add(model_name)
            model = self._object_model(model_name, self._merge_all_of(schema))
            self._building.discard(model_name)
            self._models[model_name] = model
        if self._recursive:
            namespace: dict[str, type[BaseModel]] = {
                name: m for name, m in self._models.items() if isinstance(m, type) and issubclass(m, BaseModel)
            }
            for built in namespace.values():
                built.model_rebuild(_types_namespace=namespace)
            model.model_rebuild(_types_namespace=namespace)
        return model

    # -- references

    def _resolve_ref(self, ref: str) -> dict[str, Any]:
        if ref == "#":
            return self._root
        if not ref.startswith("#/"):
            raise ReferenceNotFoundError(f"Only local references are supported, got {ref!r}")
        node: Any = self._root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise ReferenceNotFoundError(f"Reference {ref!r} not found in the schema")
            node = node[part]
        if not isinstance(node, dict):
            raise ReferenceNotFoundError(f"Reference {ref!r} does not point to a schema")
        return node

    def _ref_type(self, ref: str) -> Any:
        name = self._root_name if ref == "#" else ref.rsplit("/", 1)[-1]
        target = self._resolve_ref(ref)
        if not self._is_object_with_properties(target):
            return self._annotation(target, name, name)
        if name in self._models:
            return self._models[name]
        if name in self._building:
            self._recursive = True
            return ForwardRef(name)
        self._building.add(name)
        try:
            model = self._object_model(name, self._merge_all_of(target))
        finally:
            self._building.discard(name)
        self._models[name] = model
        return model

    def _merge_all_of(self, schema: dict[str, Any]) -> dict[str, Any]:
        if "allOf" not in schema:
            return schema
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        properties: dict[str, Any] = dict(merged.get("properties", {}))
        required: list[str] = list(merged.get("required", []))
        for part in schema["allOf"]:
            resolved = self._resolve_ref(part["$ref"]) if "$ref" in part else part
            resolved = self._merge_all_of(resolved)
            properties.update(resolved.get("properties", {}))
            required.extend(r for r in resolved.get("required", []) if r not in required)
            for key in ("description", "title"):
                if key in resolved and key not in merged:
                    merged[key] = resolved[key]
        merged.update(type="object", properties=properties, required=required)
        return merged

    @staticmethod
    def _is_object_with_properties(schema: dict[str, Any]) -> bool:
        return "properties" in schema or "allOf" in schema

    # -- models and fields

    def _object_model(self, name: str, schema: dict[str, Any]) -> type[BaseModel]:
        required = set(schema.get("required", []))
        fields: dict[str, Any] = {}
        for field_name, field_schema in schema.get("properties", {}).items():
            annotation = self._annotation(field_schema, field_name, name)
            info: dict[str, Any] = {}
            for key, argument in (("description", "description"), ("title", "title")):
                if key in field_schema:
                    info[argument] = field_schema[key]
            if "default" in field_schema:
                fields[field_name] = (annotation, Field(default=field_schema["default"], **info))
            elif field_name in required:
                fields[field_name] = (annotation, Field(..., **info))
            else:
                fields[field_name] = (Union[annotation, None], Field(default=None, **info))  # noqa: UP007
        model: type[BaseModel] = create_model(name, __doc__=schema.get("description"), **fields)
        return model

    def _annotation(self, schema: dict[str, Any], field_name: str, model_name: str) -> Any:
        if "$ref" in schema:
            return self._ref_type(schema["$ref"])
        if "allOf" in schema:
            return self._object_model(f"{model_name}_{field_name}", self._merge_all_of(schema))
        for key in ("anyOf", "oneOf"):
            if key in schema:
                members = tuple(self._annotation(s, field_name, f"{model_name}_{i}") for i, s in enumerate(schema[key]))
                union: Any = Union[members]  # noqa: UP007 - from a runtime tuple
                discriminator = schema.get("discriminator")
                if isinstance(discriminator, dict) and "propertyName" in discriminator:
                    return Annotated[union, Field(discriminator=discriminator["propertyName"])]
                return union
        if "enum" in schema:
            return Literal[tuple(schema["enum"])]
        if "const" in schema:
            return Literal[schema["const"]]
        json_type = schema.get("type")
        if isinstance(json_type, list):
            members = tuple(self._annotation({**schema, "type": t}, field_name, model_name) for t in json_type)
            return Union[members]  # noqa: UP007
        if json_type is None:
            raise UnsupportedKeywordError(f"Field {field_name!r} of {model_name} has no 'type', '$ref' or combinator")
        if json_type not in TYPE_MAPPING:
            raise UnsupportedKeywordError(f"Field {field_name!r} of {model_name} has unknown type {json_type!r}")
        return self._constrained(self._base_type(schema, json_type, field_name, model_name), json_type, schema)

    def _base_type(self, schema: dict[str, Any], json_type: str, field_name: str, model_name: str) -> Any:
        if json_type in ("string", "integer", "number") and "format" in schema:
            fmt = schema["format"]
            if fmt not in FORMAT_MAPPING:
                raise FormatNotSupportedError(f"Field {field_name!r} of {model_name} has unknown format {fmt!r}")
            return FORMAT_MAPPING[fmt]
        if json_type == "array":
            items = schema.get("items")
            if not items:
                return list[Any]
            item_type = self._annotation(items, f"{field_name}_item", model_name)
            return list[item_type]  # type: ignore[valid-type]
        if json_type == "object":
            if self._is_object_with_properties(schema):
                return self._object_model(schema.get("title") or f"{model_name}_{field_name}", schema)
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                value_type = self._annotation(extra, f"{field_name}_value", model_name)
                return dict[str, value_type]  # type: ignore[valid-type]
            return dict[str, Any]
        return TYPE_MAPPING[json_type]

    @staticmethod
    def _constrained(annotation: Any, json_type: str, schema: dict[str, Any]) -> Any:
        constraints = {
            argument: schema[keyword]
            for keyword, argument in _CONSTRAINTS.get(json_type, {}).items()
            if keyword in schema
        }
        if not constraints:
            return annotation
        return Annotated[annotation, Field(**constraints)]


def schema_to_pydantic_model(schema: dict[str, Any], model_name: str = "GeneratedModel") -> type[BaseModel]:
    """A pydantic model class that validates what ``schema`` (a JSON Schema object) describes.

    Supports local ``$ref`` (``$defs``/``definitions``, recursion included), ``allOf`` merging,
    ``anyOf``/``oneOf`` unions (with ``discriminator``), ``enum``/``const`` as Literal, string,
    number and array constraints, and common ``format`` values. Properties that are neither
    required nor defaulted become optional (default None).

    Raises:
        SchemaConversionError: (a subclass of) for dangling references, unknown formats or types.
    """
    return _JSONSchemaToPydantic().json_schema_to_pydantic(schema, model_name)
