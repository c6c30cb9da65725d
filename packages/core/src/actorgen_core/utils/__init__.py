"""Helpers for model output and schemas: JSON extraction and JSON Schema → pydantic models."""

from ..base._public_module import set_public_module
from ._json_to_pydantic import schema_to_pydantic_model
from ._load_json import extract_json_from_str

__all__ = ["schema_to_pydantic_model", "extract_json_from_str"]

set_public_module(__name__, globals())
