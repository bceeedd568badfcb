from __future__ import annotations

import asyncio
import time

import pytest
from PIL import Image

from just_ingredients.domain import BoundingBox
from just_ingredients.vision import crop_line
from just_ingredients.vision.breaker import BreakerState, CircuitBreaker
from just_ingredients.vision.engine import (
    OcrPool,
    detect_lang,
    resolve_tessdata,
    settings_key,
)
from just_ingredients.vision.intake import EmptyImage
from just_ingredients.vision.result import (
    CircuitOpen,
    NoTextFound,
    OcrResult,
    OcrTimeout,
    TessdataNotFound,
)

from .conftest import render_lines, to_bytes


def test_tessdata_resolution(tmp_path: object) -> None:
    assert resolve_tessdata("eng+fra").endswith("/")
    with pytest.raises(TessdataNotFound):
        resolve_tessdata("xyz", env={"TESSDATA_PREFIX": "/nonexistent"})


def test_read_returns_lines_with_boxes(pool: OcrPool, english_png: bytes) -> None:
    result = pool.read_sync(english_png)
    assert isinstance(result, OcrResult)
    texts = [line.text for line in result.lines]
    assert texts == ["Ingredients", "2 cups flour", "1 teaspoon salt", "3 large eggs"]
    assert result.text.splitlines() == texts
    assert result.lang == "en"
    w, h = result.image_size
    previous_top = -1
    for line in result.lines:
        assert 0 <= line.confidence <= 1
        b = line.bbox
        assert b.left >= 0
        assert b.left + b.width <= w
        assert b.top + b.height <= h
        assert b.top > previous_top
        previous_top = b.top
        assert line.words
        assert all(0 <= word.confidence <= 1 for word in line.words)
    # boxes are in input-image pixels: the first line starts near the 30 px margin
    assert abs(result.lines[0].bbox.left - 30) <= 6
    assert result.engine_seconds > 0
    assert result.settings == pool.settings_key


async def test_async_read_runs_off_the_loop(pool: OcrPool, english_png: bytes) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    result = await pool.read(english_png)
    task.cancel()
    assert "flour" in result.text
    assert ticks > 3  # the event loop kept running during OCR


def test_french_lines_and_language(pool: OcrPool) -> None:
    data = to_bytes(
        render_lines(["250 g de farine", "2 cuillères à soupe de sucre", "1 pincée de sel"])
    )
    result = pool.read_sync(data)
    assert result.lang == "fr"
    assert "farine" in result.text
    assert "pincée" in result.text


def test_blank_image_has_no_text(pool: OcrPool) -> None:
    with pytest.raises(NoTextFound):
        pool.read_sync(to_bytes(Image.new("RGB", (300, 200), "white")))


def test_rejected_image_is_not_an_engine_failure(pool: OcrPool) -> None:
    with pytest.raises(EmptyImage):
        pool.read_sync(b"")
    assert pool.breaker.state is BreakerState.CLOSED


def test_timeout_really_stops_and_opens_the_breaker() -> None:
    big = render_lines([f"{i} cups of flour and sugar, sifted twice" for i in range(60)], size=40)
    breaker = CircuitBreaker(failure_threshold=2, reset_after=60)
    with OcrPool(1, timeout_seconds=0.05, breaker=breaker) as pool:
        for _ in range(2):
            start = time.monotonic()
            with pytest.raises(OcrTimeout):
                pool.read_sync(to_bytes(big))
            assert time.monotonic() - start < 5  # cancelled, not the full read
        assert breaker.state is BreakerState.OPEN
        with pytest.raises(CircuitOpen) as exc:
            pool.read_sync(to_bytes(big))
        assert exc.value.retry_after > 0


def test_settings_key_changes_with_languages() -> None:
    assert settings_key("eng+fra") != settings_key("eng")
    assert settings_key() == settings_key()


def test_detect_lang() -> None:
    assert detect_lang("2 cups flour\n1 teaspoon salt") == "en"
    assert detect_lang("200 g de farine\n1 pincée de sel") == "fr"
    assert detect_lang("12345") is None


def test_crop_line_png(pool: OcrPool, english_png: bytes) -> None:
    result = pool.read_sync(english_png)
    png = crop_line(english_png, result.lines[1].bbox)
    assert png.startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="outside"):
        crop_line(english_png, BoundingBox(5000, 5000, 10, 10))


def test_leptonica_messages_do_not_reach_stderr() -> None:
    """Leptonica prints `Error in …` lines on some layouts; they would break JSON logs.

    A real Leptonica call with a missing argument makes it complain, before and after
    `quiet_leptonica()` (the same library instance tesserocr uses)."""
    import subprocess
    import sys

    script = (
        "import ctypes, sys\n"
        "from pathlib import Path\n"
        "import tesserocr\n"
        "from just_ingredients.vision.engine import quiet_leptonica\n"
        "site = Path(tesserocr.__file__).resolve().parent.parent\n"
        "lib = ctypes.CDLL(str(next(site.glob('tesserocr.libs/libleptonica*'))))\n"
        "if sys.argv[1] == 'quiet':\n"
        "    assert quiet_leptonica()\n"
        "lib.pixScanForForeground(None, None, 0, None)\n"
    )
    runs = {
        mode: subprocess.run(
            [sys.executable, "-c", script, mode],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stderr
        for mode in ("loud", "quiet")
    }
    assert "Error in pixScanForForeground" in runs["loud"]
    assert "Error in" not in runs["quiet"]
