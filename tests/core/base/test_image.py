"""Image without Pillow (the default install): everything but decoding works.

test_image_pillow.py covers the operations of the ``actorgen-core[image]`` extra.
"""

import base64
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from actorgen_core import Image

PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
JPEG_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 16


@pytest.fixture(autouse=True)
def no_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    # Behave as if Pillow were not installed, even where it is.
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)


def test_from_base64_keeps_bytes_and_sniffs_png() -> None:
    image = Image.from_base64(PNG_1X1)
    assert image.mime_type == "image/png"
    assert image.to_base64() == PNG_1X1
    assert image.data == base64.b64decode(PNG_1X1)
    assert image.data_uri == f"data:image/png;base64,{PNG_1X1}"


def test_jpeg_is_sniffed() -> None:
    image = Image.from_base64(base64.b64encode(JPEG_HEADER).decode())
    assert image.mime_type == "image/jpeg"
    assert image.data_uri.startswith("data:image/jpeg;base64,")


def test_from_uri_round_trip_and_rejections() -> None:
    image = Image.from_uri(f"data:image/png;base64,{PNG_1X1}")
    assert Image.from_uri(image.data_uri) == image
    with pytest.raises(ValueError, match="Invalid image URI"):
        Image.from_uri("https://example.com/cat.png")
    with pytest.raises(ValueError, match="Invalid image URI"):
        Image.from_uri(f"data:text/plain;base64,{PNG_1X1}")


def test_invalid_base64_and_unknown_format_are_value_errors() -> None:
    with pytest.raises(ValueError, match="base64"):
        Image.from_base64("not base64 !!")
    with pytest.raises(ValueError, match="Unrecognised image format"):
        Image.from_base64(base64.b64encode(b"BM plain bitmap").decode())


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "pixel.png"
    path.write_bytes(base64.b64decode(PNG_1X1))
    assert Image.from_file(path).to_base64() == PNG_1X1


def test_openai_format() -> None:
    image = Image.from_base64(PNG_1X1)
    assert image.to_openai_format(detail="low") == {
        "type": "image_url",
        "image_url": {"url": image.data_uri, "detail": "low"},
    }
    assert image.data_uri in image._repr_html_()


def test_pillow_only_operations_raise_clear_import_error() -> None:
    image = Image.from_base64(PNG_1X1)
    with pytest.raises(ImportError, match=r"pip install 'actorgen-core\[image\]'"):  # names the extra
        _ = image.image
    with pytest.raises(ImportError, match="Pillow"):
        _ = image.image
    with pytest.raises(ImportError, match="Pillow"):
        Image.from_pil(object())
    with pytest.raises(ImportError, match="Pillow"):
        Image(object())


class Holder(BaseModel):
    picture: Image
    pictures: list[Image] = []


def test_pydantic_round_trip() -> None:
    holder = Holder(picture=Image.from_base64(PNG_1X1), pictures=[Image.from_base64(PNG_1X1)])
    assert holder.model_dump()["picture"] == {"data": PNG_1X1}
    restored = Holder.model_validate_json(holder.model_dump_json())
    assert restored == holder
    assert restored.picture.mime_type == "image/png"
    assert Holder.model_validate({"picture": {"data": PNG_1X1}}).picture == holder.picture
    schema = Holder.model_json_schema()
    assert "picture" in schema["properties"]


def test_pydantic_rejects_bad_values() -> None:
    with pytest.raises(ValidationError):
        Holder.model_validate({"picture": "iVBOR"})
    with pytest.raises(ValidationError):
        Holder.model_validate({"picture": {"data": "%%%"}})
