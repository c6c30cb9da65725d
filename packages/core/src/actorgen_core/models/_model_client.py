"""Import path kept for code written against ``autogen_core.models._model_client``."""

from ..components._models.model_client import (
    ChatCompletionClient,
    ModelCapabilities,
    ModelFamily,
    ModelInfo,
    validate_model_info,
)

__all__ = ["ChatCompletionClient", "ModelCapabilities", "ModelFamily", "ModelInfo", "validate_model_info"]
