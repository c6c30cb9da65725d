import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from actorgen_core.utils import extract_json_from_str, schema_to_pydantic_model
from actorgen_core.utils._json_to_pydantic import (
    FormatNotSupportedError,
    ReferenceNotFoundError,
    SchemaConversionError,
    UnsupportedKeywordError,
)


def test_extract_plain_json() -> None:
    assert extract_json_from_str('{"a": 1}') == [{"a": 1}]
    with pytest.raises(ValueError):
        extract_json_from_str("{not json")


def test_extract_fenced_blocks() -> None:
    text = 'Here:\n```json\n{"a": 1}\n```\nand\n```\n{"b": 2}\n```\n'
    assert extract_json_from_str(text) == [{"a": 1}, {"b": 2}]
    with pytest.raises(ValueError, match="python"):
        extract_json_from_str("```python\nprint(1)\n```")
    with pytest.raises(json.JSONDecodeError):
        extract_json_from_str("```json\n{broken\n```")


USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A user.",
    "properties": {
        "name": {"type": "string", "minLength": 2, "description": "Full name"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "role": {"enum": ["admin", "user"], "default": "user"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "nickname": {"type": "string"},
    },
    "required": ["name", "age"],
}


def test_flat_schema_fields_and_constraints() -> None:
    model = schema_to_pydantic_model(USER_SCHEMA, "User")
    assert model.__name__ == "User"
    user = model.model_validate({"name": "Ann", "age": 30})
    assert user.model_dump() == {"name": "Ann", "age": 30, "role": "user", "tags": None, "nickname": None}
    for bad in (
        {"name": "A", "age": 30},
        {"name": "Ann", "age": -1},
        {"name": "Ann", "age": 30, "role": "owner"},
        {"name": "Ann", "age": 30, "tags": ["a", "b", "c"]},
        {"age": 30},
    ):
        with pytest.raises(ValidationError):
            model.model_validate(bad)
    schema = model.model_json_schema()
    assert schema["properties"]["name"]["description"] == "Full name"
    assert schema["required"] == ["name", "age"]


def test_refs_recursion_and_nested_arrays() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "boss": {"$ref": "#/$defs/Employee"},
            "teams": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"members": {"type": "array", "items": {"$ref": "#/$defs/Employee"}}},
                    "required": ["members"],
                },
            },
        },
        "required": ["boss"],
        "$defs": {
            "Employee": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "reports": {"type": "array", "items": {"$ref": "#/$defs/Employee"}},
                },
                "required": ["name"],
            }
        },
    }
    model = schema_to_pydantic_model(schema, "Org")
    org = model.model_validate(
        {"boss": {"name": "A", "reports": [{"name": "B", "reports": []}]}, "teams": [{"members": [{"name": "C"}]}]}
    )
    boss: Any = getattr(org, "boss")  # noqa: B009
    assert type(boss).__name__ == "Employee"
    assert isinstance(boss.reports[0], BaseModel) and boss.reports[0].name == "B"
    teams: Any = getattr(org, "teams")  # noqa: B009
    assert isinstance(teams[0], BaseModel) and teams[0].members[0].name == "C"
    with pytest.raises(ValidationError):
        model.model_validate({"boss": {"reports": []}})


def test_all_of_merges_properties() -> None:
    schema: dict[str, Any] = {
        "$defs": {
            "Named": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
            "Aged": {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]},
        },
        "allOf": [{"$ref": "#/$defs/Named"}, {"$ref": "#/$defs/Aged"}],
    }
    model = schema_to_pydantic_model(schema)
    assert set(model.model_fields) == {"name", "age"}
    with pytest.raises(ValidationError):
        model.model_validate({"name": "x"})


def test_discriminated_one_of() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "pet": {
                "oneOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}],
                "discriminator": {"propertyName": "kind"},
            }
        },
        "required": ["pet"],
        "$defs": {
            "Cat": {
                "type": "object",
                "properties": {"kind": {"const": "cat"}, "lives": {"type": "integer"}},
                "required": ["kind", "lives"],
            },
            "Dog": {
                "type": "object",
                "properties": {"kind": {"const": "dog"}, "good": {"type": "boolean"}},
                "required": ["kind", "good"],
            },
        },
    }
    model = schema_to_pydantic_model(schema)
    pet: Any = getattr(model.model_validate({"pet": {"kind": "dog", "good": True}}), "pet")  # noqa: B009
    assert type(pet).__name__ == "Dog"
    with pytest.raises(ValidationError, match="kind"):
        model.model_validate({"pet": {"kind": "fish"}})


def test_any_of_with_constrained_array_and_formats() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "value": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "integer"}, "minItems": 2}]},
            "when": {"type": "string", "format": "date-time"},
            "id": {"type": "string", "format": "uuid"},
            "email": {"type": "string", "format": "email"},
        },
    }
    model = schema_to_pydantic_model(schema)
    ok = model.model_validate({"value": [1, 2], "when": "2024-01-02T03:04:05Z"})
    assert getattr(ok, "when").year == 2024  # noqa: B009
    model.model_validate({"value": "text"})
    for bad in ({"value": [1]}, {"id": "not-a-uuid"}, {"email": "nope"}):
        with pytest.raises(ValidationError):
            model.model_validate(bad)


@pytest.mark.parametrize(
    ("schema", "error"),
    [
        ({"type": "object", "properties": {"x": {"$ref": "#/$defs/Missing"}}}, ReferenceNotFoundError),
        ({"type": "object", "properties": {"x": {"type": "string", "format": "color"}}}, FormatNotSupportedError),
        ({"type": "object", "properties": {"x": {"description": "no type"}}}, UnsupportedKeywordError),
        ({"type": "object", "properties": {"x": {"type": "tuple"}}}, UnsupportedKeywordError),
        ({"type": "object", "properties": {"x": {"type": "array", "items": {"type": "set"}}}}, UnsupportedKeywordError),
    ],
)
def test_conversion_errors(schema: dict[str, Any], error: type[SchemaConversionError]) -> None:
    with pytest.raises(error):
        schema_to_pydantic_model(schema)


EMPLOYEE_SCHEMA: dict[str, Any] = {
    "$defs": {
        "Employee": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "manager": {"$ref": "#/$defs/Employee"}},
            "required": ["name"],
        }
    },
    "$ref": "#/$defs/Employee",
}


def test_a_root_that_refers_to_its_own_definition_is_the_recursive_model() -> None:
    # The schema pydantic emits for a self-referencing model (issue 7, item 1): it used to give
    # a model with no fields, which accepted anything.
    employee = schema_to_pydantic_model(EMPLOYEE_SCHEMA, "Employee")
    assert set(employee.model_fields) == {"name", "manager"}
    boss = employee.model_validate({"name": "ada", "manager": {"name": "grace", "manager": {"name": "joan"}}})
    assert boss.manager.manager.name == "joan"  # type: ignore[attr-defined]
    assert boss.manager.manager.manager is None  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        employee.model_validate({"name": "ada", "manager": {"manager": None}})  # the manager has no name
    with pytest.raises(ValidationError):
        employee.model_validate({"manager": {"name": "grace"}})


def test_pydantic_schema_of_a_recursive_model_round_trips() -> None:
    class Employee(BaseModel):
        name: str
        manager: "Employee | None" = None

    rebuilt = schema_to_pydantic_model(Employee.model_json_schema(), "Employee")
    data = {"name": "a", "manager": {"name": "b", "manager": None}}
    assert rebuilt.model_validate(data).model_dump() == Employee.model_validate(data).model_dump()


def test_a_ref_to_the_root_itself() -> None:
    node = schema_to_pydantic_model(
        {
            "type": "object",
            "properties": {"label": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}},
            "required": ["label"],
        },
        "Node",
    )
    tree = node.model_validate({"label": "root", "children": [{"label": "leaf", "children": []}]})
    assert tree.children[0].label == "leaf"  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        node.model_validate({"label": "root", "children": [{"children": []}]})


def test_a_root_ref_to_a_non_object_is_refused() -> None:
    with pytest.raises(UnsupportedKeywordError):
        schema_to_pydantic_model({"$defs": {"N": {"type": "integer"}}, "$ref": "#/$defs/N"})
