"""Import path kept for code written against ``autogen_core.utils._json_to_pydantic``."""

from ..components._json.schema_to_model import (
    FORMAT_MAPPING,
    TYPE_MAPPING,
    FormatNotSupportedError,
    ReferenceNotFoundError,
    SchemaConversionError,
    UnsupportedKeywordError,
    schema_to_pydantic_model,
)
from ..components._json.schema_to_model import _JSONSchemaToPydantic as _JSONSchemaToPydantic

__all__ = [
    "FORMAT_MAPPING",
    "TYPE_MAPPING",
    "FormatNotSupportedError",
    "ReferenceNotFoundError",
    "SchemaConversionError",
    "UnsupportedKeywordError",
    "schema_to_pydantic_model",
]
