"""Cut a line out of a photo so the bot can show it next to a doubtful ingredient."""

from __future__ import annotations

import io

from PIL import Image

from just_ingredients.domain import BoundingBox
from just_ingredients.vision.intake import DEFAULT_MAX_BYTES, load_image


def crop_line(
    image: bytes | Image.Image,
    bbox: BoundingBox,
    *,
    margin: float = 0.25,
    max_width: int = 1280,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> bytes:
    """PNG bytes of ``bbox`` (in the upright image, as OcrLine.bbox) plus a margin of
    ``margin`` × the line height on every side, clipped to the image, at most ``max_width``
    pixels wide. Raw bytes go through the same checks as OCR input (EXIF orientation
    included), so the box lands where the OCR saw the line."""
    img = image if isinstance(image, Image.Image) else load_image(image, max_bytes=max_bytes).image
    pad = max(2, round(bbox.height * margin))
    left = max(0, bbox.left - pad)
    top = max(0, bbox.top - pad)
    right = min(img.width, bbox.left + bbox.width + pad)
    bottom = min(img.height, bbox.top + bbox.height + pad)
    if right <= left or bottom <= top:
        raise ValueError(f"box {bbox.as_list()} is outside the {img.width}x{img.height} image")
    part = img.crop((left, top, right, bottom))
    if part.mode not in ("L", "RGB"):
        part = part.convert("RGB")
    if part.width > max_width:
        ratio = max_width / part.width
        part = part.resize((max_width, max(1, round(part.height * ratio))))
    out = io.BytesIO()
    part.save(out, format="PNG", optimize=True)
    return out.getvalue()
