from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from just_ingredients.vision.intake import (
    BadAspectRatio,
    CorruptImage,
    EmptyImage,
    ImageRejected,
    ImageTooLarge,
    ImageTooSmall,
    TooManyPixels,
    UnsupportedFormat,
    load_image,
    sniff_format,
)

from .conftest import to_bytes


def _img(
    mode: str = "RGB", size: tuple[int, int] = (200, 120), color: object = "white"
) -> Image.Image:
    return Image.new(mode, size, color)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("PNG", "PNG"), ("JPEG", "JPEG"), ("WEBP", "WEBP"), ("BMP", "BMP"), ("TIFF", "TIFF")],
)
def test_accepted_formats_detected_by_magic(fmt: str, name: str) -> None:
    data = to_bytes(_img(), fmt)
    assert sniff_format(data) == name
    loaded = load_image(data)
    assert loaded.format == name
    assert loaded.image.mode in ("RGB", "L")
    assert loaded.image.size == (200, 120)


def test_file_name_is_irrelevant_and_text_is_refused() -> None:
    with pytest.raises(UnsupportedFormat) as exc:
        load_image(b"hello, this is not an image at all")
    assert exc.value.code == "image_unsupported_format"


def test_empty() -> None:
    with pytest.raises(EmptyImage) as exc:
        load_image(b"")
    assert exc.value.code == "image_empty"
    assert isinstance(exc.value, ImageRejected)


def test_too_many_bytes() -> None:
    data = to_bytes(_img(), "PNG")
    with pytest.raises(ImageTooLarge):
        load_image(data, max_bytes=len(data) - 1)


def test_truncated_jpeg() -> None:
    data = to_bytes(_img(color="gray", size=(400, 300)), "JPEG", quality=90)
    with pytest.raises(CorruptImage):
        load_image(data[: len(data) // 2])


def test_corrupt_png_body() -> None:
    data = bytearray(to_bytes(_img(color="red"), "PNG"))
    data[60:80] = b"\x00" * 20
    with pytest.raises(CorruptImage):
        load_image(bytes(data))


def _bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header announcing width×height, with a tiny (bogus) body."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_bomb_refused_from_header() -> None:
    with pytest.raises(TooManyPixels) as exc:
        load_image(_bomb_png(100_000, 100_000))
    assert exc.value.code == "image_too_many_pixels"


def test_pixel_limit_parameter() -> None:
    with pytest.raises(TooManyPixels):
        load_image(to_bytes(_img(size=(300, 300))), max_pixels=50_000)


def test_tiny_and_absurd_aspect() -> None:
    with pytest.raises(ImageTooSmall):
        load_image(to_bytes(_img(size=(10, 10))))
    with pytest.raises(BadAspectRatio):
        load_image(to_bytes(_img(size=(3000, 20))))


def test_cmyk_jpeg_becomes_rgb() -> None:
    loaded = load_image(to_bytes(_img("CMYK", color=(0, 0, 0, 0)), "JPEG"))
    assert loaded.image.mode == "RGB"
    assert loaded.image.getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=3)


def test_16_bit_png_becomes_8_bit() -> None:
    img = Image.new("I;16", (100, 50), 65535)
    img.paste(0, (0, 0, 50, 50))
    loaded = load_image(to_bytes(img, "PNG"))
    assert loaded.image.mode == "L"
    assert loaded.image.getpixel((75, 25)) == 255
    assert loaded.image.getpixel((10, 25)) == 0


def test_rgba_flattened_on_white() -> None:
    img = Image.new("RGBA", (100, 50), (0, 0, 0, 0))
    img.paste((0, 0, 0, 255), (0, 0, 50, 50))
    loaded = load_image(to_bytes(img, "PNG"))
    assert loaded.image.mode == "RGB"
    assert loaded.image.getpixel((75, 25)) == (255, 255, 255)
    assert loaded.image.getpixel((10, 25)) == (0, 0, 0)


def test_palette_png_accepted_gif_refused() -> None:
    pal = _img(color="blue").convert("P")
    assert load_image(to_bytes(pal, "PNG")).image.mode == "RGB"
    with pytest.raises(UnsupportedFormat):
        load_image(to_bytes(pal, "GIF"))


def test_grayscale_and_bilevel() -> None:
    assert load_image(to_bytes(_img("L", color=128))).image.mode == "L"
    assert load_image(to_bytes(_img("1", color=1))).image.mode == "L"


def test_exif_orientation_applied() -> None:
    img = _img(size=(200, 100))
    img.paste((0, 0, 0), (0, 0, 20, 20))  # black square top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = to_bytes(img, "JPEG", exif=exif.tobytes(), quality=95)
    loaded = load_image(data)
    assert loaded.image.size == (100, 200)
    assert loaded.original_size == (200, 100)
    r, g, b = loaded.image.getpixel((90, 10))  # the square is now top-right
    assert r < 60
    assert g < 60
    assert b < 60


def test_multi_frame_tiff_reads_first_page() -> None:
    pages = [_img(color="white"), _img(color="black")]
    out = io.BytesIO()
    pages[0].save(out, format="TIFF", save_all=True, append_images=pages[1:])
    loaded = load_image(out.getvalue())
    assert loaded.image.getpixel((5, 5)) == (255, 255, 255)


def test_heic_is_decoded() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    out = io.BytesIO()
    heif = pillow_heif.from_pillow(_img(size=(64, 48)))
    heif.save(out, quality=90)
    data = out.getvalue()
    assert sniff_format(data) == "HEIF"
    loaded = load_image(data)
    assert loaded.format == "HEIF"
    assert loaded.image.size == (64, 48)
    assert loaded.image.mode == "RGB"


def test_heic_magic_detected() -> None:
    header = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    assert sniff_format(header) == "HEIF"
    with pytest.raises(ImageRejected):  # not a real HEIC body
        load_image(header + b"\x00" * 64)


def test_truncated_or_headerless_heic_is_corrupt_not_a_crash() -> None:
    """Found by the intake fuzzer: libheif raises EOFError / IndexError on such bytes."""
    import io

    import pillow_heif
    from PIL import Image

    from just_ingredients.vision.intake import CorruptImage, load_image

    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (64, 64), "white")).save(out, quality=50)
    heic = out.getvalue()
    cut = heic[: len(heic) - 8]  # the coded picture is cut short
    at = heic.index(b"ipma") + 8  # after the box type and version/flags: entry_count
    no_properties = heic[:at] + b"\x00\x00\x00\x00" + heic[at + 4 :]  # libheif: IndexError
    for data in (cut, no_properties):
        with pytest.raises(CorruptImage):
            load_image(data)
