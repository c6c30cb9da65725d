"""An image in a message, kept as its encoded bytes so that Pillow stays optional."""

from __future__ import annotations

import base64
import binascii
import importlib
import io
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

__all__ = ["Image"]

# (signature at the start of the file, mime type). WebP needs a second check, see _sniff_mime.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_DATA_URI = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp);base64,(.+)$", re.DOTALL)


def _sniff_mime(data: bytes) -> str | None:
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _import_pil() -> Any:
    try:
        # Imported by name so that type checking does not require Pillow.
        return importlib.import_module("PIL.Image")
    except ImportError as e:
        raise ImportError(
            "This Image operation decodes the image and needs Pillow, which is not installed. Install the "
            "extra: pip install 'actorgen-core[image]'. (Images in PNG, JPEG, GIF or WebP work without it: "
            "Image.from_uri/from_base64/from_file, to_base64, data_uri, sending them to a model.)"
        ) from e


def _decode_base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"Image data is not valid base64: {e}") from e


class Image:
    """An encoded image (PNG, JPEG, GIF or WebP) with its mime type.

    Unlike autogen_core's Image, which holds a decoded Pillow image, this one holds the
    encoded bytes: building, serializing and sending images to a model never needs Pillow.
    ``Image(pil_image)``, :meth:`from_pil` and :attr:`image` need Pillow and raise ImportError
    without it. (Pillow types appear as ``Any`` so that type checking does not need Pillow.)
    """

    __slots__ = ("_data", "_mime_type", "_pil")

    _data: bytes
    _mime_type: str
    _pil: Any

    def __init__(self, image: Any) -> None:
        pil = _import_pil()
        if not isinstance(image, pil.Image):
            raise TypeError(f"Image() takes a PIL.Image.Image, got {type(image).__name__}; use Image.from_* instead")
        rgb = image.convert("RGB")
        buffer = io.BytesIO()
        rgb.save(buffer, format="PNG")
        self._data = buffer.getvalue()
        self._mime_type = "image/png"
        self._pil = rgb

    @classmethod
    def _from_bytes(cls, data: bytes) -> Image:
        mime = _sniff_mime(data)
        if mime is None:
            return cls._from_unknown_format(data)
        image = object.__new__(cls)
        image._data = data
        image._mime_type = mime
        image._pil = None
        return image

    @classmethod
    def _from_unknown_format(cls, data: bytes) -> Image:
        # Formats we cannot recognise by signature (BMP, TIFF, ...) are converted by Pillow when present.
        try:
            pil = _import_pil()
        except ImportError as e:
            raise ValueError("Unrecognised image format (PNG, JPEG, GIF and WebP are supported without Pillow)") from e
        try:
            opened = pil.open(io.BytesIO(data))
            opened.load()
        except Exception as e:
            raise ValueError(f"Cannot decode image: {e}") from e
        return cls(opened)

    @classmethod
    def from_pil(cls, pil_image: Any) -> Image:
        return cls(pil_image)

    @classmethod
    def from_uri(cls, uri: str) -> Image:
        """Build from a ``data:image/<png|jpeg|gif|webp>;base64,...`` URI."""
        match = _DATA_URI.match(uri)
        if match is None:
            raise ValueError("Invalid image URI: expected data:image/<png|jpeg|gif|webp>;base64,<data>")
        return cls.from_base64(match.group(2))

    @classmethod
    def from_base64(cls, base64_str: str) -> Image:
        return cls._from_bytes(_decode_base64(base64_str))

    @classmethod
    def from_file(cls, file_path: Path) -> Image:
        return cls._from_bytes(Path(file_path).read_bytes())

    @property
    def data(self) -> bytes:
        """The encoded image bytes."""
        return self._data

    @property
    def mime_type(self) -> str:
        return self._mime_type

    @property
    def image(self) -> Any:
        """The decoded Pillow image (needs Pillow)."""
        if self._pil is None:
            pil = _import_pil()
            opened = pil.open(io.BytesIO(self._data))
            self._pil = opened.convert("RGB")
        return self._pil

    def to_base64(self) -> str:
        """The encoded bytes in base64 (in the image's own format, see :attr:`mime_type`)."""
        return base64.b64encode(self._data).decode("ascii")

    @property
    def data_uri(self) -> str:
        return f"data:{self._mime_type};base64,{self.to_base64()}"

    def to_openai_format(self, detail: Literal["auto", "low", "high"] = "auto") -> dict[str, Any]:
        return {"type": "image_url", "image_url": {"url": self.data_uri, "detail": detail}}

    def _repr_html_(self) -> str:
        return f'<img src="{self.data_uri}"/>'

    def __repr__(self) -> str:
        return f"Image(mime_type={self._mime_type!r}, size={len(self._data)} bytes)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        return self._data == other._data

    def __hash__(self) -> int:
        return hash(self._data)

    @classmethod
    def __get_pydantic_core_schema__(cls, source_type: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any) -> Image:
            if isinstance(value, Image):
                return value
            if isinstance(value, dict) and isinstance(value.get("data"), str):
                return cls.from_base64(value["data"])
            raise ValueError("Expected an Image or a dict {'data': <base64 image>}")

        def serialize(value: Image) -> dict[str, str]:
            return {"data": value.to_base64()}

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(serialize),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "object",
            "properties": {"data": {"type": "string", "contentEncoding": "base64"}},
            "required": ["data"],
            "title": "Image",
        }
