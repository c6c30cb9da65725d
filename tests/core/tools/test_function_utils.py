"""The function-schema helpers at ``actorgen_core._function_utils`` (autogen_core's 12 names, issue 7 item 10)."""

from __future__ import annotations

import inspect
import logging
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from actorgen_core import _function_utils as fu

TWELVE = [
    "get_typed_signature",
    "get_typed_return_annotation",
    "get_param_annotations",
    "type2description",
    "get_parameter_json_schema",
    "get_required_params",
    "get_default_values",
    "get_parameters",
    "get_missing_annotations",
    "get_function_schema",
    "normalize_annotated_type",
    "args_base_model_from_signature",
]


def weather(city: Annotated[str, "The city"], days: int = 2, unit: Annotated[str, "C or F"] = "C") -> str:
    return f"{city}:{days}{unit}"


class Forecast(BaseModel):
    text: str


def forecast(city: str, detail: Forecast | None = None) -> Forecast:
    return Forecast(text=city)


def test_all_twelve_names_are_there() -> None:
    assert [name for name in TWELVE if not callable(getattr(fu, name, None))] == []


def test_get_function_schema_of_an_annotated_function() -> None:
    assert fu.get_function_schema(weather, description="Weather for a city") == {
        "type": "function",
        "function": {
            "description": "Weather for a city",
            "name": "weather",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city"},
                    "days": {"type": "integer", "default": 2, "description": "days"},
                    "unit": {"type": "string", "default": "C", "description": "C or F"},
                },
                "required": ["city"],
            },
        },
    }


def test_get_function_schema_takes_a_name_and_nests_models() -> None:
    schema = fu.get_function_schema(forecast, name="get_forecast", description="d")
    function = schema["function"]
    assert function["name"] == "get_forecast"
    assert function["parameters"]["required"] == ["city"]
    assert "Forecast" in str(function["parameters"]["properties"]["detail"])


def test_get_function_schema_needs_annotations_on_required_parameters(caplog: pytest.LogCaptureFixture) -> None:
    def untyped(a, b: int = 1):  # type: ignore[no-untyped-def]
        return a

    with pytest.raises(TypeError, match=r"'untyped'.*: a"):
        fu.get_function_schema(untyped, description="d")

    def loose(a: int, b=1) -> int:  # type: ignore[no-untyped-def]
        return a

    with caplog.at_level(logging.WARNING):
        schema = fu.get_function_schema(loose, description="d")
    assert list(schema["function"]["parameters"]["properties"]) == ["a"]
    assert "b" in caplog.text


def test_a_missing_return_annotation_is_only_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    def no_return(a: int):  # type: ignore[no-untyped-def]
        return a

    with caplog.at_level(logging.WARNING):
        fu.get_function_schema(no_return, description="d")
    assert "no return annotation" in caplog.text
    assert fu.get_typed_return_annotation(no_return) is None
    assert fu.get_typed_return_annotation(forecast) is Forecast


def test_the_building_blocks() -> None:
    signature = fu.get_typed_signature(weather)
    assert signature.parameters["city"].annotation == Annotated[str, "The city"]
    assert fu.get_required_params(signature) == ["city"]
    assert fu.get_default_values(signature) == {"days": 2, "unit": "C"}
    assert fu.get_param_annotations(signature) == {
        "city": Annotated[str, "The city"],
        "days": int,
        "unit": Annotated[str, "C or F"],
    }
    assert fu.get_missing_annotations(signature, ["city"]) == (set(), set())
    assert fu.type2description("city", Annotated[str, "The city"]) == "The city"
    assert fu.type2description("days", int) == "days"
    with pytest.raises(ValueError, match="description"):
        fu.type2description("x", Annotated[int, 3])
    assert fu.get_parameter_json_schema("days", int, {"days": 2}) == {
        "type": "integer",
        "default": 2,
        "description": "days",
    }
    parameters = fu.get_parameters(["city"], {"city": str}, {})
    assert parameters.model_dump() == {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "city"}},
        "required": ["city"],
    }
    assert fu.normalize_annotated_type(Annotated[int, "x"]) is int


def test_get_missing_annotations_splits_required_and_defaulted() -> None:
    def f(a, b, c: int, d=1, e: int = 2) -> None:  # type: ignore[no-untyped-def]
        pass

    signature = inspect.signature(f)
    assert fu.get_missing_annotations(signature, fu.get_required_params(signature)) == ({"a", "b"}, {"d"})


def test_args_model_from_signature_validates_calls() -> None:
    model: Any = fu.args_base_model_from_signature("weather_args", fu.get_typed_signature(weather))
    args = model.model_validate({"city": "Oslo"})
    assert (args.city, args.days, args.unit) == ("Oslo", 2, "C")
    assert model.model_json_schema()["properties"]["city"]["description"] == "The city"
