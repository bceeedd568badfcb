"""Fixtures for the vision tests: rendered ingredient lists (DejaVu fonts), one OCR pool."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from just_ingredients.vision.engine import OcrPool

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def render_lines(
    lines: list[str],
    font: str = "DejaVuSans.ttf",
    size: int = 28,
    pad: int = 30,
    mode: str = "RGB",
) -> Image.Image:
    face = ImageFont.truetype(str(FONT_DIR / font), size)
    width = max(int(face.getlength(line)) for line in lines) + 2 * pad
    height = len(lines) * int(size * 1.6) + 2 * pad
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((pad, pad + i * int(size * 1.6)), line, font=face, fill=(20, 20, 20))
    return img.convert(mode)


def to_bytes(img: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **kw)
    return out.getvalue()


@pytest.fixture(scope="session")
def pool() -> Iterator[OcrPool]:
    with OcrPool(1, timeout_seconds=20) as p:
        yield p


@pytest.fixture(scope="session")
def english_png() -> bytes:
    return to_bytes(
        render_lines(["Ingredients", "2 cups flour", "1 teaspoon salt", "3 large eggs"])
    )
