"""Helpers for model output and schemas: JSON extraction and JSON Schema → pydantic models."""

from ..components._json.extraction import extract_json_from_str
from ..components._json.schema_to_model import schema_to_pydantic_model

__all__ = ["schema_to_pydantic_model", "extract_json_from_str"]
