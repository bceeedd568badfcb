from __future__ import annotations

from PIL import Image, ImageDraw

from just_ingredients.domain import BoundingBox
from just_ingredients.vision.preprocess import (
    RAW,
    Prepared,
    PreprocessOptions,
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
