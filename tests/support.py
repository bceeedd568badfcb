"""Small helpers shared by the test suites and the benches that run real processes."""

from __future__ import annotations

import io
import socket
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def render_lines(lines: list[str], size: int = 30, repeat: int = 1) -> bytes:
    """A PNG of `lines` (`repeat` times, for a long OCR job) in DejaVu Sans, black on white:
    what a clean photo reads like."""
    if DEJAVU_SANS.exists():
        face: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype(
            str(DEJAVU_SANS), size
        )
    else:
        face = ImageFont.load_default()
    all_lines = lines * repeat
    width = max(int(face.getlength(line)) for line in all_lines) + 80
    image = Image.new("RGB", (width, len(all_lines) * int(size * 1.6) + 80), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(all_lines):
        draw.text((40, 40 + i * int(size * 1.6)), line, font=face, fill=(15, 15, 15))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
