"""Image with Pillow installed (``actorgen-core[image]``; the dev environment has it)."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image as PILImage
from pydantic import BaseModel

from actorgen_core import Image

PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def encoded(image: PILImage.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_from_pil_encodes_png_and_keeps_the_pixels() -> None:
    picture = PILImage.new("RGB", (3, 2), (10, 20, 30))
    image = Image.from_pil(picture)
    assert image.mime_type == "image/png"
    assert image.data.startswith(b"\x89PNG")
    assert image == Image(picture)
    decoded = PILImage.open(io.BytesIO(image.data))
    assert decoded.size == (3, 2) and decoded.getpixel((2, 1)) == (10, 20, 30)


def test_alpha_is_dropped_to_rgb() -> None:
    image = Image(PILImage.new("RGBA", (1, 1), (1, 2, 3, 128)))
    assert image.image.mode == "RGB"
    assert image.image.getpixel((0, 0)) == (1, 2, 3)


def test_image_property_decodes_encoded_bytes_once() -> None:
    image = Image.from_base64(PNG_1X1)
    decoded = image.image
    assert decoded.size == (1, 1) and decoded.mode == "RGB"
    assert image.image is decoded  # cached


def test_formats_without_a_known_signature_are_converted_to_png() -> None:
    bmp = encoded(PILImage.new("RGB", (2, 2), (255, 0, 0)), "BMP")
    image = Image.from_base64(base64.b64encode(bmp).decode())
    assert image.mime_type == "image/png"
    assert image.image.getpixel((1, 1)) == (255, 0, 0)
    with pytest.raises(ValueError, match="Cannot decode image"):
        Image.from_base64(base64.b64encode(b"BM not really a bitmap").decode())


def test_jpeg_bytes_stay_jpeg() -> None:
    jpeg = encoded(PILImage.new("RGB", (4, 4), (0, 128, 0)), "JPEG")
    image = Image.from_base64(base64.b64encode(jpeg).decode())
    assert image.mime_type == "image/jpeg" and image.data == jpeg
    assert image.image.size == (4, 4)


def test_only_pil_images_are_accepted_by_the_constructor() -> None:
    with pytest.raises(TypeError, match=r"PIL\.Image\.Image"):
        Image(b"bytes")  # type: ignore[arg-type]


class Holder(BaseModel):
    picture: Image


def test_a_pil_built_image_round_trips_through_pydantic() -> None:
    holder = Holder(picture=Image.from_pil(PILImage.new("L", (2, 2), 200)))
    restored = Holder.model_validate_json(holder.model_dump_json())
    assert restored == holder
    assert restored.picture.image.getpixel((0, 0)) == (200, 200, 200)
