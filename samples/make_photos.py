"""Make the bundled sample photos (samples/photos/*.jpg): ingredient lists rendered with the
DejaVu fonts on a paper-coloured sheet laid on a darker table, then a little rotation,
blur, uneven light, noise and JPEG compression, like a phone photo.

    uv run python samples/make_photos.py   # deterministic (fixed seeds)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = Path("/usr/share/fonts/truetype/dejavu")
OUT = Path(__file__).resolve().parent / "photos"


@dataclass(frozen=True)
class Sample:
    name: str
    title: str
    lines: tuple[str, ...]
    font: str
    size: int
    angle: float
    seed: int


SAMPLES = (
    Sample(
        "pancakes_en.jpg",
        "Pancakes",
        ("1 ½ cups all-purpose flour", "3 ½ teaspoons baking powder", "¼ teaspoon salt",
         "1 tablespoon white sugar", "1 ¼ cups milk", "1 egg", "3 tablespoons butter, melted"),
        "DejaVuSans.ttf", 30, 2.0, 1,
    ),
    Sample(
        "crepes_fr.jpg",
        "Crêpes",
        ("250 g de farine", "4 œufs", "½ litre de lait", "2 cuillères à soupe de sucre",
         "1 pincée de sel", "50 g de beurre fondu"),
        "DejaVuSerif.ttf", 30, -1.5, 2,
    ),
    Sample(
        "cookies_en.jpg",
        "Chocolate chip cookies",
        ("2 ¼ cups flour", "1 teaspoon baking soda", "¾ cup granulated sugar",
         "¾ cup brown sugar", "2 large eggs", "2 cups chocolate chips"),
        "DejaVuSans.ttf", 28, -2.5, 3,
    ),
    Sample(
        "quiche_fr.jpg",
        "Quiche lorraine",
        ("1 pâte brisée", "200 g de lardons", "3 œufs", "20 cl de crème fraîche",
         "¼ litre de lait", "sel, poivre"),
        "DejaVuSansCondensed.ttf", 30, 1.0, 4,
    ),
)  # fmt: skip


def render(sample: Sample) -> Image.Image:
    rng = random.Random(sample.seed)
    font = ImageFont.truetype(str(FONTS / sample.font), sample.size)
    bold = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), int(sample.size * 1.2))
    step = int(sample.size * 1.7)
    width = max(int(font.getlength(line)) for line in sample.lines) + 160
    height = step * (len(sample.lines) + 2) + 120
    sheet = Image.new("RGB", (width, height), (246, 243, 235))
    draw = ImageDraw.Draw(sheet)
    draw.text((60, 50), sample.title, font=bold, fill=(30, 30, 30))
    for i, line in enumerate(sample.lines):
        draw.text((60, 50 + step * (i + 2)), line, font=font, fill=(35, 35, 40))
    sheet = sheet.rotate(sample.angle, expand=True, resample=Image.Resampling.BICUBIC,
                         fillcolor=(90, 70, 55))  # fmt: skip
    table = Image.new("RGB", (sheet.width + 240, sheet.height + 200), (90, 70, 55))
    table.paste(sheet, (120 + rng.randint(-20, 20), 100 + rng.randint(-20, 20)))
    arr = np.asarray(table, dtype=np.float32)
    h, w = arr.shape[:2]
    # uneven light: darker towards one corner
    yy, xx = np.mgrid[0:h, 0:w]
    light = 1.0 - 0.25 * (xx / w) * (yy / h)
    arr = arr * light[..., None]
    arr += np.random.default_rng(sample.seed).normal(0, 4.0, arr.shape)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), mode="RGB")
    return img.filter(ImageFilter.GaussianBlur(0.7))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES:
        path = OUT / sample.name
        render(sample).save(path, format="JPEG", quality=80, optimize=True)
        print(f"{path.name}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
