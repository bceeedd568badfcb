"""Re-reading weak lines alone: when a new reading is taken, and that it stays safe."""

from __future__ import annotations

from just_ingredients.vision.engine import (
    OcrEngine,
    OcrPool,
    _clearly_better,
    _shift_line,
    settings_key,
)
from just_ingredients.vision.preprocess import PreprocessOptions, prepare
from just_ingredients.vision.result import RawLine, RawWord

from .conftest import render_lines


def line(*words: tuple[str, float]) -> RawLine:
    raw = tuple(RawWord(t, (10 * i, 0, 10 * i + 8, 10), c) for i, (t, c) in enumerate(words))
    return RawLine(raw, (0, 0, 10 * len(words), 10), 80.0)


def test_a_sure_new_amount_replaces_a_doubtful_one() -> None:
    old = line(("*", 52), ("90", 63), ("g", 91), ("sultanas", 87))
    new = line(("+", 43), ("50", 93), ("g", 75), ("sultanas", 88))
    assert _clearly_better(new, old)


def test_a_doubtful_new_amount_never_replaces_the_first_one() -> None:
    old = line(("-", 85), ("1", 16), ("cs", 16), ("de", 97), ("miel", 97))
    new = line(("4", 53), ("cs", 87), ("de", 97), ("miel", 94))
    assert not _clearly_better(new, old)


def test_a_word_read_less_surely_blocks_the_new_reading() -> None:
    old = line(("1/2", 95), ("cup", 94), ("soybeans", 37), ("(yellow,", 76), ("80", 93))
    new = line(("1/2", 91), ("cup", 95), ("seybeans", 88), ("(yellew,", 55), ("80", 96))
    assert not _clearly_better(new, old)


def test_junk_read_as_a_unit_is_taken() -> None:
    old = line(("+", 68), ("225", 75), ("¢", 83), ("four", 59))
    new = line(("+", 72), ("225", 89), ("g", 73), ("flour", 95))
    assert _clearly_better(new, old)


def test_a_reading_with_much_more_or_less_text_is_refused() -> None:
    old = line(("2", 60), ("cups", 60), ("flour", 60))
    assert not _clearly_better(line(("2", 95), ("cups", 95)), old)
    assert not _clearly_better(
        line(("2", 95), ("cups", 95), ("flour", 95), ("sifted", 95), ("twice", 95)), old
    )


def test_shift_line_moves_words_back_to_the_page() -> None:
    read = [line(("2", 90), ("cups", 90))]
    original = RawLine((), (100, 200, 180, 220), 50.0)
    moved = _shift_line(read, 95, 190, original)
    assert moved.box == original.box
    assert moved.words[0].box == (95, 190, 103, 200)


def test_single_line_read_on_a_crop(pool: OcrPool) -> None:
    img = render_lines(["2 cups flour", "50 g sultanas"], size=30)
    engine = OcrEngine(pool._tessdata)
    try:
        prepared = prepare(img, PreprocessOptions(), engine.measure_lines)
        page = engine.recognize(prepared.image, 10.0)
        x0, y0, x1, y1 = page[1].box
        crop = prepared.image.crop((x0 - 8, y0 - 8, x1 + 8, y1 + 8))
        alone = engine.recognize(crop, 10.0, psm=7)
        # the engine is back in page mode afterwards
        assert len(engine.recognize(prepared.image, 10.0)) == 2
    finally:
        engine.close()
    assert len(alone) == 1
    assert " ".join(w.text for w in alone[0].words) == "50 g sultanas"


def test_reread_is_part_of_the_settings_key() -> None:
    assert settings_key(reread_lines_below=0) != settings_key()
    with OcrPool(1, reread_lines_below=0) as pool:
        assert pool.settings_key == settings_key(reread_lines_below=0)
        assert pool.read_sync(render_lines(["2 cups flour", "1 egg"])).text
