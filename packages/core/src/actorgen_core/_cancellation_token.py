"""Import path kept for code written against ``autogen_core._cancellation_token``."""

from .base._cancellation_token import (
    CancellationToken,
)

__all__ = [
    "CancellationToken",
]
