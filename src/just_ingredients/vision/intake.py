"""Image intake: check untrusted bytes and turn them into an upright 8-bit RGB/L image.

Everything the bot or the CLI receives goes through :func:`load_image` first. The format is
detected from the magic bytes (never from a file name); size, pixel count and aspect ratio
are checked from the header *before* the pixels are decoded. Each refusal is a typed
:class:`ImageRejected` carrying a stable ``code`` that front ends map to localised messages.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import ClassVar

from PIL import Image, ImageOps

#: default limits (the caller passes ``max_bytes`` from ``Settings.max_image_bytes``)
DEFAULT_MAX_BYTES = 20_000_000
DEFAULT_MAX_PIXELS = 40_000_000  # 40 MP: a big phone photo is 12–50 MP; decoding 40 MP RGB ≈ 120 MB
MIN_SIDE = 16  # px; below this nothing is readable
MAX_ASPECT = 20.0  # long side / short side


class ImageRejected(Exception):
    """Base of every refusal. ``code`` is stable (used as an i18n message key)."""

    code: ClassVar[str] = "image_rejected"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmptyImage(ImageRejected):
    code = "image_empty"


class UnsupportedFormat(ImageRejected):
    code = "image_unsupported_format"


class CorruptImage(ImageRejected):
    code = "image_corrupt"


class ImageTooLarge(ImageRejected):
    """The file has more bytes than allowed."""

    code = "image_too_large"


class TooManyPixels(ImageRejected):
    """Decompression bomb or simply an absurdly large picture."""

    code = "image_too_many_pixels"


class ImageTooSmall(ImageRejected):
    code = "image_too_small"


class BadAspectRatio(ImageRejected):
    code = "image_bad_aspect_ratio"


#: magic bytes → our format name
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "JPEG"),
    (0, b"\x89PNG\r\n\x1a\n", "PNG"),
    (0, b"BM", "BMP"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (0, b"GIF87a", "GIF"),
    (0, b"GIF89a", "GIF"),
    (0, b"%PDF", "PDF"),
)
_ACCEPTED = {"JPEG", "PNG", "WEBP", "BMP", "TIFF", "HEIF"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


def sniff_format(data: bytes) -> str | None:
    """Format name from the magic bytes, or None when unknown."""
    for offset, magic, name in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "AVIF" if data[8:12] == b"avif" else "HEIF"
    return None


def _heif_available() -> bool:
    try:
        import pillow_heif  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return True


@dataclass(frozen=True, slots=True)
class LoadedImage:
    """A checked, decoded, upright image (mode ``RGB`` or ``L``)."""

    image: Image.Image
    format: str
    original_size: tuple[int, int]  # as stored, before EXIF rotation
    size_bytes: int


def load_image(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = MIN_SIDE,
    max_aspect: float = MAX_ASPECT,
) -> LoadedImage:
    """Check and decode ``data``. Raises a subclass of :class:`ImageRejected`."""
    if not data:
        raise EmptyImage("the file is empty")
    if len(data) > max_bytes:
        raise ImageTooLarge(f"{len(data)} bytes is over the limit of {max_bytes}")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedFormat("not a recognised image file")
    if fmt == "HEIF":
        return _load_heif(data, max_pixels, min_side, max_aspect)
    if fmt not in _ACCEPTED:
        raise UnsupportedFormat(f"{fmt} images are not accepted")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            # Header only so far: check the geometry before decoding any pixel.
            width, height = img.size
            _check_geometry(width, height, max_pixels, min_side, max_aspect)
            if getattr(img, "n_frames", 1) > 1:
                img.seek(0)  # multi-page TIFF / animated WebP: first frame only
            img.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooManyPixels(str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as exc:
        raise CorruptImage(f"cannot decode the image: {exc}") from exc
    try:
        image = normalize_mode(ImageOps.exif_transpose(img) or img)
    except (OSError, ValueError, SyntaxError) as exc:
        raise CorruptImage(f"cannot convert the image: {exc}") from exc
    return LoadedImage(image=image, format=fmt, original_size=(width, height), size_bytes=len(data))


def _load_heif(data: bytes, max_pixels: int, min_side: int, max_aspect: float) -> LoadedImage:
    """HEIC/HEIF through pillow-heif without registering a global Pillow plugin."""
    if not _heif_available():  # pragma: no cover - depends on the environment
        raise UnsupportedFormat("HEIC/HEIF images are not supported here")
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        width, height = heif.size  # from the header; nothing decoded yet
        _check_geometry(width, height, max_pixels, min_side, max_aspect)
        img = heif.to_pillow()  # libheif applies the HEIF rotation/mirror boxes itself
        image = normalize_mode(img)
    except ImageRejected:
        raise
    except Exception as exc:  # libheif on hostile bytes raises EOFError, IndexError, …
        raise CorruptImage(f"cannot decode the image: {exc}") from exc
    return LoadedImage(image=image, format="HEIF", original_size=(width, height),
                       size_bytes=len(data))  # fmt: skip


def _check_geometry(
    width: int, height: int, max_pixels: int, min_side: int, max_aspect: float
) -> None:
    if width <= 0 or height <= 0:
        raise CorruptImage("the image has no pixels")
    if width * height > max_pixels:
        raise TooManyPixels(f"{width}x{height} pixels is over the limit of {max_pixels}")
    if min(width, height) < min_side:
        raise ImageTooSmall(f"{width}x{height} is too small to read")
    if max(width, height) / min(width, height) > max_aspect:
        raise BadAspectRatio(f"{width}x{height} is not a page shape")


def normalize_mode(img: Image.Image) -> Image.Image:
    """Any Pillow mode → 8-bit ``L`` or ``RGB``; transparency is flattened on white."""
    mode = img.mode
    if mode in ("L", "RGB"):
        return img
    if mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if mode == "1":
        return img.convert("L")
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        high = float(arr.max()) if arr.size else 0.0
        scale = 255.0 / 65535.0 if high > 255 else 1.0
        out = np.clip(arr * scale, 0, 255).astype(np.uint8)
        return Image.fromarray(out, mode="L")
    if mode == "F":
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        out = ((arr - lo) / (hi - lo or 1.0) * 255.0).astype(np.uint8)
        return Image.fromarray(out, mode="L")
    # CMYK, YCbCr, LAB, HSV, RGBX …
    return img.convert("RGB")
