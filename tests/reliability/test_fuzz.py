"""Fuzzing the parser and the image intake with hypothesis: never an unexpected exception,
never a hang. The ``deadline`` of each test is a per-input time BUDGET (generous, several
times what a normal input takes on a shared 2-core runner), not a benchmark: it catches
catastrophic regex backtracking or a decoder stuck on a crafted header, nothing finer.
A coverage-guided run with atheris is in fuzz_atheris.py (`uv run --with atheris python
tests/reliability/fuzz_atheris.py -runs=20000`)."""

from __future__ import annotations

import io
import math
import struct
import time
import zlib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from just_ingredients import service
from just_ingredients.bot.keyboards import split_data
from just_ingredients.parsing import parse_line, parse_text
from just_ingredients.vision.intake import ImageRejected, LoadedImage, load_image

PARSE_LINE_BUDGET = timedelta(milliseconds=50)
PARSE_TEXT_BUDGET = timedelta(milliseconds=500)
INTAKE_BUDGET = timedelta(milliseconds=500)

_PIECES = st.sampled_from(
    [
        *"0123456789 /.,-–—()[]½¼¾⅓⅛⁄xX×*+~%|'’\"éèàçœ\t\u00a0\u200b\u202e",
        "cup",
        "cups",
        "c. à s.",
        "cuillère à soupe",
        "de ",
        "d'",
        " to ",
        " à ",
        " ou ",
        " or ",
        "g",
        "kg",
        "ml",
        "l ",
        "tbsp",
        "tsp",
        "pinch",
        "pincée",
        "about ",
        "environ ",
        "1/2",
        "1 1/2",
        "0,5",
        "1.5",
        "1-2",
        "1 à 2",
        "10x",
        "(",
        ")",
        "🍋",
        "ا",
        "ש",
    ]
)
ingredientish = st.lists(_PIECES, max_size=120).map("".join)
long_repetitive = st.builds(lambda piece, n: piece * n, _PIECES, st.integers(50, 300))
#: a line as a person types it: the bot refuses longer ones (service.LINE_MAX = 300) before
#: parsing; longer OCR lines are checked by test_long_ocr_words_are_parsed_in_linear_time
any_line = st.one_of(st.text(max_size=300), ingredientish, long_repetitive).map(lambda s: s[:300])


def _sane(ingredient: object) -> None:
    if ingredient is None:
        return
    quantity = getattr(ingredient, "quantity", None)
    if quantity is not None:
        assert math.isfinite(quantity)
        assert quantity >= 0


@settings(max_examples=400, deadline=PARSE_LINE_BUDGET,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(any_line, st.sampled_from([None, "en", "fr"]))
def test_parse_line_never_raises_nor_hangs(text: str, lang: str | None) -> None:
    _sane(parse_line(text, lang))  # type: ignore[arg-type]


@settings(max_examples=100, deadline=PARSE_TEXT_BUDGET,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(st.lists(any_line, max_size=40).map("\n".join), st.sampled_from([None, "en", "fr"]))
def test_parse_text_never_raises_nor_hangs(text: str, lang: str | None) -> None:
    parsed = parse_text(text[:4096], lang)  # type: ignore[arg-type]
    for ingredient in parsed.ingredients:
        _sane(ingredient)


@settings(max_examples=200, deadline=PARSE_TEXT_BUDGET,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(st.one_of(st.text(max_size=4096), st.lists(any_line, max_size=20).map("\n".join)))
def test_typed_lines_are_parsed_or_refused_with_a_message_key(text: str) -> None:
    """What a user types in a review (up to a 4096-character message)."""
    try:
        items = service.parse_ingredient_lines(text)
    except service.LineRejected as rejected:
        code = rejected.code
        assert code in {"line_too_long", "line_not_ingredient", "line_no_name"}
    else:
        assert items
        for item in items:
            _sane(item)


def test_long_ocr_words_are_parsed_in_linear_time() -> None:
    """A wide picture (25000×1250 px is within the 40 MP and 1:20 limits) can hold lines
    that Tesseract reads as one long word; parsing them must stay fast."""
    text = "\n".join(["pinch" * 500] * 20)  # 20 lines × 2500 letters
    started = time.perf_counter()
    parse_text(text, None)
    assert time.perf_counter() - started < 1.0  # budget; linear parsing takes milliseconds


@given(st.one_of(st.text(max_size=80), st.binary(max_size=80).map(lambda b: b.decode("latin-1"))))
def test_callback_data_splitting_never_raises(data: str) -> None:
    parsed = split_data(data)
    assert parsed is None or (isinstance(parsed, tuple) and len(parsed) == 2)


# --- image intake ----------------------------------------------------------------------------


def _seed(fmt: str, mode: str = "RGB", size: tuple[int, int] = (64, 48), **kw: object) -> bytes:
    img = Image.new(mode, size, "white" if mode in ("RGB", "L") else 0)
    out = io.BytesIO()
    img.save(out, format=fmt, **kw)
    return out.getvalue()


def _heic() -> bytes:
    import pillow_heif

    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (64, 48), "white")).save(out, quality=50)
    return out.getvalue()


SEEDS = [
    _heic(),
    _seed("PNG"),
    _seed("JPEG", quality=80),
    _seed("JPEG", mode="CMYK"),
    _seed("WEBP"),
    _seed("BMP"),
    _seed("TIFF"),
    _seed("PNG", mode="P"),
    _seed("PNG", mode="LA"),
    _seed("GIF", mode="P"),
]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@st.composite
def mutated_images(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[i : i + draw(st.integers(1, 64))]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=32))
        else:
            data[i:i] = data[i : i + draw(st.integers(1, 256))]
    return bytes(data)


@st.composite
def crafted_pngs(draw: st.DrawFn) -> bytes:
    """A PNG header declaring any size / bit depth / colour type over a tiny IDAT."""
    width, height = draw(st.integers(0, 2**31 - 1)), draw(st.integers(0, 2**31 - 1))
    depth = draw(st.sampled_from([1, 2, 4, 8, 16, 3, 0]))
    colour = draw(st.sampled_from([0, 2, 3, 4, 6, 5]))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, draw(st.integers(0, 1)))
    idat = zlib.compress(draw(st.binary(max_size=256)))
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _check_intake(data: bytes) -> None:
    try:
        loaded = load_image(data)
    except ImageRejected as rejected:
        code = rejected.code
        assert code.startswith("image_")
        return
    assert isinstance(loaded, LoadedImage)
    assert loaded.image.mode in ("L", "RGB")
    width, height = loaded.image.size
    assert width * height <= 40_000_000


@settings(max_examples=300, deadline=INTAKE_BUDGET,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(st.one_of(mutated_images(), crafted_pngs(), st.binary(max_size=512)))
def test_image_intake_never_raises_anything_but_a_rejection(data: bytes) -> None:
    _check_intake(data)


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_every_truncation_of_a_seed_is_handled(seed: int) -> None:
    data = SEEDS[seed]
    for end in range(0, len(data), max(1, len(data) // 60)):
        _check_intake(data[:end])
