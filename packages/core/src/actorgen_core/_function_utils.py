"""Import path kept for code written against ``autogen_core._function_utils``."""

from .components._tools.function_schema import (
    args_base_model_from_signature,
    get_typed_signature,
    normalize_annotated_type,
)

__all__ = ["args_base_model_from_signature", "get_typed_signature", "normalize_annotated_type"]
