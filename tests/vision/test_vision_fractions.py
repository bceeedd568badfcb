from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from just_ingredients.vision.engine import OcrPool
from just_ingredients.vision.fractions import FractionReader, fix_line, ink_mask
from just_ingredients.vision.result import RawWord

from .conftest import FONT_DIR, render_lines, to_bytes


@pytest.fixture(scope="module")
def reader() -> FractionReader:
    return FractionReader()


def _glyph(ch: str, font: str = "DejaVuSerif.ttf", size: int = 40) -> Image.Image:
    face = ImageFont.truetype(str(FONT_DIR / font), size)
    img = Image.new("L", (size * 4, size * 2), 255)
    ImageDraw.Draw(img).text((size // 3, size // 4), ch, font=face, fill=0)
    return img


@pytest.mark.parametrize("ch", ["½", "¼", "¾"])
def test_classifies_rendered_fraction(reader: FractionReader, ch: str) -> None:
    assert reader.classify(_glyph(ch)).glyph == ch


@pytest.mark.parametrize("ch", ["2", "4", "%", "a", "•"])
def test_never_calls_a_lookalike_a_fraction(reader: FractionReader, ch: str) -> None:
    assert reader.classify(_glyph(ch)).glyph is None


def test_junk_token_is_dropped_and_line_made_doubtful() -> None:
    blank = Image.new("L", (300, 60), 255)
    words = [RawWord("Y%", (10, 10, 40, 50), 60), RawWord("cup", (50, 20, 100, 50), 95)]
    fix = fix_line(words, (10, 10, 200, 50), blank, None)
    assert [w.text for w in fix.words] == ["cup"]
    assert fix.confidence_factor < 0.75
    assert fix.notes == ("fraction:dropped",)


def test_bullets_are_removed() -> None:
    blank = Image.new("L", (300, 60), 255)
    words = [RawWord("+", (10, 20, 20, 30), 60), RawWord("2", (30, 10, 45, 50), 95),
             RawWord("eggs", (50, 20, 100, 50), 95)]  # fmt: skip
    fix = fix_line(words, (10, 10, 200, 50), blank, None)
    assert [w.text for w in fix.words] == ["2", "eggs"]


def test_mixed_number_with_lost_slash() -> None:
    blank = Image.new("L", (300, 60), 255)
    words = [RawWord("2", (10, 10, 25, 50), 95), RawWord("12", (30, 10, 60, 50), 80),
             RawWord("cups", (70, 20, 120, 50), 95)]  # fmt: skip
    fix = fix_line(words, (10, 10, 200, 50), blank, None)
    assert [w.text for w in fix.words] == ["2", "1/2", "cups"]


def test_ink_mask_of_blank_is_empty() -> None:
    assert not ink_mask(Image.new("L", (20, 20), 255)).any()


def test_pool_recovers_half_glyph(pool: OcrPool) -> None:
    data = to_bytes(
        render_lines(["½ cup sugar", "¼ cup milk", "2 eggs"], font="DejaVuSans.ttf", size=30)
    )
    result = pool.read_sync(data)
    first = result.lines[0]
    # either the glyph was recovered, or it was dropped and the line marked doubtful
    assert first.text.startswith("½") or (not first.text[0].isdigit() and first.confidence < 0.75)
    assert result.lines[-1].text == "2 eggs"


def test_real_twelve_stays_twelve(pool: OcrPool) -> None:
    data = to_bytes(render_lines(["12 eggs", "14 cups water", "3 apples"], size=30))
    result = pool.read_sync(data)
    assert [line.text for line in result.lines] == ["12 eggs", "14 cups water", "3 apples"]


def test_letter_for_one_and_glued_bullet() -> None:
    blank = Image.new("L", (300, 60), 255)
    glued = fix_line([RawWord("‘Legg", (10, 10, 60, 50), 40)], (10, 10, 200, 50), blank, None)
    assert [w.text for w in glued.words] == ["1", "egg"]
    assert glued.confidence_factor < 1
    tall = [RawWord("|", (10, 10, 14, 50), 60), RawWord("piece", (20, 20, 80, 50), 95)]
    assert [w.text for w in fix_line(tall, (10, 10, 200, 50), blank, None).words] == [
        "1",
        "piece",
    ]


def test_garbage_line_is_dropped() -> None:
    from just_ingredients.vision.fractions import recover_lines
    from just_ingredients.vision.result import RawLine

    blank = Image.new("L", (300, 60), 255)
    junk = RawLine(tuple(RawWord("ee", (i * 10, 0, i * 10 + 8, 10), 30) for i in range(4)),
                   (0, 0, 40, 10), 30)  # fmt: skip
    assert recover_lines([junk], blank, None) == []


def test_slash_fraction_with_full_size_digits(reader: FractionReader) -> None:
    assert reader.slash_fraction(ink_mask(_glyph("1/4", "DejaVuSans.ttf", 40))) == "1/4"
    assert reader.slash_fraction(ink_mask(_glyph("14", "DejaVuSans.ttf", 40))) is None
    assert reader.slash_fraction(ink_mask(_glyph("4/1", "DejaVuSans.ttf", 40))) is None
