"""The bad-input corpus, made at run time (nothing binary is kept in the repository).

Each :class:`Case` is one hostile, broken or odd input and the answer a user must get:
``key`` is the i18n message key of that answer (``REVIEW`` = the image is fine and must be
read into a review that lists ``needle``).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image
from tests.bot.conftest import render

#: the answer is a review listing this ingredient (the odd image was read correctly)
REVIEW = "review"
LINES = ["200 g flour", "3 eggs"]
NEEDLE = "flour"


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], bytes]
    key: str
    #: "photo" (compressed by Telegram), or a document with this MIME type
    mime: str | None = "image/png"
    file_name: str = "file"
    #: file_size Telegram reports (None = the real size)
    declared_size: int | None = None


def page() -> Image.Image:
    return Image.open(io.BytesIO(render(LINES))).convert("RGB")


def save(img: Image.Image, fmt: str, **kwargs: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **kwargs)
    return out.getvalue()


def jpeg() -> bytes:
    return save(page(), "JPEG", quality=90)


def png() -> bytes:
    return save(page(), "PNG")


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG whose header declares ``width``×``height`` (a bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def png_with_text_chunk(text: bytes) -> bytes:
    data = png()
    end = data.rindex(b"IEND") - 4
    return data[:end] + _chunk(b"tEXt", b"Comment\x00" + text) + data[end:]


def zip_bytes() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.html", "<script>alert(1)</script>")
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [page().convert("P"), Image.new("P", page().size, 0)]
    return save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def heic() -> bytes:
    import pillow_heif

    heif = pillow_heif.from_pillow(page())
    out = io.BytesIO()
    heif.save(out, quality=90)
    return out.getvalue()


def huge_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "A" * 50_000  # ImageDescription: ~55 kB of EXIF (the APP1 limit is 64 kB)
    exif[0x9286] = b"UNICODE\x00" + "💥".encode("utf-16-be") * 1000  # UserComment
    return save(page(), "JPEG", exif=exif.tobytes())


def exif_rotated() -> bytes:
    """Stored turned 90°; EXIF orientation 6 says "rotate to read"."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return save(page().transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif.tobytes())


def sixteen_bit() -> bytes:
    import numpy as np

    arr = np.asarray(page().convert("L"), dtype=np.uint16) * 257
    img = Image.fromarray(arr)  # mode I;16: 16 bits per sample
    assert img.mode == "I;16", img.mode
    return save(img, "PNG")


def alpha() -> bytes:
    """Black text on a fully transparent background (flattened on white it reads)."""
    grey = page().convert("L")
    rgba = Image.new("RGBA", grey.size, (0, 0, 0, 0))
    rgba.putalpha(grey.point(lambda v: 255 - v))
    return save(rgba, "PNG")


def sized(width: int, height: int, fmt: str = "PNG") -> bytes:
    return save(Image.new("L", (width, height), 255), fmt)


def truncated(data: bytes, keep: float = 0.4) -> bytes:
    return data[: int(len(data) * keep)]


def bad_crc_png() -> bytes:
    data = bytearray(png())
    i = data.index(b"IDAT") + 4 + 10
    data[i] ^= 0xFF  # flips compressed bytes: zlib or CRC error
    return bytes(data)


SVG_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200"><text x="10" y="50">&c;&xxe;
200 g flour</text></svg>"""

IMAGE_CASES: list[Case] = [
    Case("zero_bytes", lambda: b"", "image_empty"),
    Case("truncated_jpeg", lambda: truncated(jpeg()), "image_corrupt", "image/jpeg"),
    Case("truncated_png", lambda: truncated(png()), "image_corrupt"),
    Case("png_header_only", lambda: png()[:33], "image_corrupt"),
    Case("png_bad_crc", bad_crc_png, "image_corrupt"),
    Case("wrong_magic_png", lambda: b"\x00" + png()[1:], "image_unsupported_format"),
    Case("text_named_jpg", lambda: b"this is not a picture", "image_unsupported_format",
         "image/jpeg", "photo.jpg"),
    Case("zip_as_jpeg", zip_bytes, "image_unsupported_format", "image/jpeg"),
    Case("html_as_png", lambda: b"<html><script>alert(1)</script></html>",
         "image_unsupported_format"),
    Case("pdf_as_png", lambda: b"%PDF-1.4\n" + png(), "image_unsupported_format"),
    Case("svg", lambda: SVG_BOMB, "image_unsupported_format", "image/svg+xml", "bomb.svg"),
    Case("animated_gif", animated_gif, "image_unsupported_format", "image/gif", "a.gif"),
    Case("bomb_100k_x_100k", lambda: png_declaring(100_000, 100_000), "image_too_many_pixels"),
    Case("bomb_65535_x_65535", lambda: png_declaring(65_535, 65_535), "image_too_many_pixels"),
    Case("one_by_one", lambda: sized(1, 1), "image_too_small"),
    Case("zero_by_zero_header", lambda: png_declaring(0, 0), "image_corrupt"),
    Case("strip_20000_x_20", lambda: sized(20_000, 20), "image_bad_aspect_ratio"),
    Case("over_size_limit", lambda: png(), "image_too_large", declared_size=25_000_000),
    Case("blank_page", lambda: sized(400, 300), "ocr_no_text"),
    Case("pdf_document", lambda: b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
         "unsupported_document", "application/pdf", "recipe.pdf"),
    Case("exe_document", lambda: b"MZ\x90\x00" + b"\x00" * 60, "unsupported_document",
         "application/x-msdownload", "recipe.exe"),
    # odd but valid pictures: they must be read like any photo
    Case("jpeg_with_zip_appended", lambda: jpeg() + zip_bytes(), REVIEW, "image/jpeg"),
    Case("jpeg_with_html_appended", lambda: jpeg() + b"<html><script>x</script></html>",
         REVIEW, "image/jpeg"),
    Case("png_with_pdf_header_chunk", lambda: png_with_text_chunk(b"%PDF-1.4 1 0 obj"), REVIEW),
    Case("heic", heic, REVIEW, "image/heic", "photo.heic"),
    Case("huge_exif", huge_exif, REVIEW, "image/jpeg"),
    Case("exif_rotated", exif_rotated, REVIEW, "image/jpeg"),
    Case("cmyk_jpeg", lambda: save(page().convert("CMYK"), "JPEG"), REVIEW, "image/jpeg"),
    Case("sixteen_bit_png", sixteen_bit, REVIEW),
    Case("palette_png", lambda: save(page().convert("P"), "PNG"), REVIEW),
    Case("alpha_png", alpha, REVIEW),
    Case("webp", lambda: save(page(), "WEBP", quality=90), REVIEW, "image/webp"),
    Case("as_compressed_photo", jpeg, REVIEW, None),
]  # fmt: skip

#: text messages sent outside a review: the answer is "send a photo"
ODD_TEXTS: dict[str, str] = {
    "max_4096": "200 g flour " * 372 + "abcd",
    "rtl_arabic": "\u200f٢٠٠ غرام طحين \u202eevil\u202c",
    "rtl_hebrew": "200 גרם קמח",
    "zero_width": "2\u200b0\u200c0\u200d g\ufeff flour\u2060",
    "control_chars": "200\x00 g\x07 flour\x1b[31m red\x7f",
    "emoji": "🥚🥚🥚 3 eggs 🧂 👨‍👩‍👧‍👦 🏳️‍🌈",
    "sql": "'); DROP TABLE recipes;--",
    "html": "<b>x</i> <a href='javascript:alert(1)'>y</a> &amp; &#0; <script>",
    "markdown": "*bold _it [link](http://x) `code ~~~ ||spoiler|| \\",
    "lone_surrogate_like": "\ufffd\ufffe\uffff",
    "newlines_only": "\n\n\n \t ",
}
