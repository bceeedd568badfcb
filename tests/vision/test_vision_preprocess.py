from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from just_ingredients.domain import BoundingBox
from just_ingredients.vision.engine import OcrEngine, OcrPool
from just_ingredients.vision.preprocess import (
    RAW,
    Prepared,
    PreprocessOptions,
    check_sheet,
    find_paper,
    median_line_height,
    prepare,
)

from .conftest import render_lines


def test_to_source_inverts_crop_and_scale() -> None:
    p = Prepared(Image.new("L", (200, 100)), (500, 400), (50, 60, 150, 110), 0.0, 2.0, 20.0)
    assert p.to_source(0, 0, 200, 100) == BoundingBox(50, 60, 100, 50)


def test_to_source_inverts_rotation_roughly() -> None:
    p = Prepared(Image.new("L", (100, 100)), (100, 100), (0, 0, 100, 100), 3.0, 1.0, 20.0)
    box = p.to_source(40, 40, 60, 60)
    assert abs(box.left - 40) <= 2
    assert abs(box.top - 40) <= 2


def test_small_text_is_scaled_up() -> None:
    img = render_lines(["2 cups flour", "1 teaspoon salt", "3 eggs"], size=11)
    p = prepare(img)
    assert p.scale > 1.5
    assert prepare(img, RAW).scale == 1.0


def test_paper_on_dark_background_is_cropped() -> None:
    page = render_lines(["2 cups flour", "1 teaspoon salt", "3 eggs"], size=24).convert("L")
    photo = Image.new("L", (page.width + 300, page.height + 300), 40)
    photo.paste(page, (150, 150))
    found = find_paper(photo)
    assert found is not None
    (x0, y0, x1, _y1), _ = found
    assert abs(x0 - 150) < 15
    assert abs(y0 - 150) < 15
    assert abs(x1 - (150 + page.width)) < 15
    p = prepare(photo, PreprocessOptions(deskew=False))
    assert p.crop_box[0] > 100


def test_no_paper_on_a_screenshot() -> None:
    assert find_paper(render_lines(["1 cup rice"], size=24)) is None


def test_deskew_levels_a_rotated_page() -> None:
    page = render_lines([f"{i} cups flour sugar butter" for i in range(8)], size=22)
    rotated = page.rotate(3, expand=True, fillcolor="white")
    p = prepare(rotated)
    assert abs(p.angle_deg + 3) <= 1.0


def test_median_line_height_ignores_blocks_and_specks() -> None:
    assert median_line_height([(30, 300), (31, 400), (5, 5), (400, 500)]) in (30.0, 31.0)
    assert median_line_height([]) is None


def test_key_mentions_steps() -> None:
    assert PreprocessOptions().key() != RAW.key()
    _ = ImageDraw  # keep import used for type checkers


SHADED_LINES = [
    "Ingredients",
    "2 cups flour, sifted twice",
    "1 teaspoon salt",
    "250 g cherry tomatoes",
    "3 large eggs, beaten",
]


def shaded_sheet_photo() -> tuple[Image.Image, tuple[int, int, int, int]]:
    """A sheet on a light textured table, a shadow darkening the right side: the light/dark
    split merges the lit table with the sheet and leaves the shaded end of the lines out."""
    page = render_lines(SHADED_LINES, font="DejaVuSansMono.ttf", size=26, pad=40).convert("L")
    w, h = page.width + 500, page.height + 400
    rng = np.random.default_rng(3)
    noise = Image.fromarray((rng.random((h // 16, w // 16)) * 255).astype(np.uint8), mode="L")
    noise = noise.resize((w, h), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(6))
    arr = 150 + (np.asarray(noise, dtype=np.float32) - 128) * 0.3
    arr[200 : 200 + page.height, 250 : 250 + page.width] = np.asarray(page, np.float32) * 0.92
    ramp = np.clip((np.arange(w) - 0.3 * w) / (0.3 * w), 0, 1)
    arr = arr * (1 - 0.6 * ramp)[None, :]
    photo = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), mode="L")
    return photo, (250, 200, 250 + page.width, 200 + page.height)


def test_shaded_sheet_on_light_table_fools_the_sheet_finder() -> None:
    """The situation the crop check exists for (if this starts failing, find_paper got
    better and the check below may no longer be exercised)."""
    photo, (_, _, right, _) = shaded_sheet_photo()
    found = find_paper(photo)
    assert found is not None
    box, _ = found
    assert box[0] == 0  # touches the border
    assert box[2] < right - 50  # and cuts the lines


def test_crop_check_keeps_text_the_sheet_cut_off(pool: OcrPool) -> None:
    photo, (left, top, right, bottom) = shaded_sheet_photo()
    engine = OcrEngine(pool._tessdata)
    try:
        checked = prepare(photo, PreprocessOptions(), engine.measure_lines, engine.locate_lines)
        unchecked = prepare(
            photo,
            PreprocessOptions(validate_crop=False),
            engine.measure_lines,
            engine.locate_lines,
        )
    finally:
        engine.close()
    x0, y0, x1, y1 = checked.crop_box
    # the crop holds the whole text block (padding included) and not much of the table
    assert x0 <= left + 40
    assert x1 >= right - 40
    assert y0 <= top + 40
    assert y1 >= bottom - 40
    assert (x1 - x0) * (y1 - y0) < 0.6 * photo.width * photo.height
    assert unchecked.crop_box[2] < right - 50
    text = pool.read_sync(photo.convert("RGB")).text
    for word in ("twice", "tomatoes", "beaten"):
        assert word in text


def test_check_sheet_trusts_a_sheet_holding_all_lines() -> None:
    page = render_lines(["2 cups flour", "1 teaspoon salt", "3 eggs"], size=24).convert("L")
    photo = Image.new("L", (page.width + 300, page.height + 300), 40)
    photo.paste(page, (150, 150))
    found = find_paper(photo)
    assert found is not None
    lines = [(170, 160 + 38 * i, 170 + 200, 160 + 38 * i + 30) for i in range(3)]
    assert check_sheet(photo, found[1], lambda _img: lines, 1.0) is None
    # a line running off the sheet makes it doubtful: crop to the lines instead
    lines.append((170, 300, photo.width - 5, 330))
    box = check_sheet(photo, found[1], lambda _img: lines, 1.0)
    assert box is not None
    assert box[2] == photo.width
    # no evidence (fewer than two lines): keep the sheet
    assert check_sheet(photo, found[1], lambda _img: lines[:1], 1.0) is None
