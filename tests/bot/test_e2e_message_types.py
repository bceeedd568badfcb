"""Every kind of message the bot cannot use gets a short answer in the user's language
(one real bot process for the whole module; each case is its own user)."""

from __future__ import annotations

import io
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from PIL import Image
from tests.bot.conftest import STEP_TIMEOUT, BotProcess, blank_png, render, review_photo
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram

from just_ingredients.i18n import translate

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

_users = itertools.count(20_000)


def truncated_jpeg() -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(review_photo())).convert("RGB").save(out, format="JPEG", quality=90)
    data = out.getvalue()
    return data[: len(data) // 3]


def png(size: tuple[int, int], mode: str = "L") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 255).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _document(fake: FakeTelegram, user: int, lang: str, data: bytes, mime: str, name: str) -> Any:
    file_id = fake.add_file(data, folder="documents", extension="")
    return fake.make_document_update(
        user, file_id, mime_type=mime, file_name=name, language_code=lang
    )


def _photo(fake: FakeTelegram, user: int, lang: str, data: bytes) -> Any:
    return fake.make_photo_update(user, [fake.add_file(data)], language_code=lang)


#: (case, builder(fake, user, lang) -> update, message key of the answer)
CASES: list[tuple[str, Any, str]] = [
    ("sticker", lambda f, u, lang: f.make_update("sticker", u, language_code=lang),
     "unsupported_sticker"),
    ("voice", lambda f, u, lang: f.make_update("voice", u, language_code=lang),
     "unsupported_voice"),
    ("audio", lambda f, u, lang: f.make_update("audio", u, language_code=lang),
     "unsupported_voice"),
    ("video", lambda f, u, lang: f.make_update("video", u, language_code=lang),
     "unsupported_video"),
    ("video_note", lambda f, u, lang: f.make_update("video_note", u, language_code=lang),
     "unsupported_video"),
    ("animation", lambda f, u, lang: f.make_update("animation", u, language_code=lang),
     "unsupported_video"),
    ("location", lambda f, u, lang: f.make_update("location", u, language_code=lang),
     "unsupported_location"),
    ("contact", lambda f, u, lang: f.make_update("contact", u, language_code=lang),
     "unsupported_contact"),
    ("poll", lambda f, u, lang: f.make_update("poll", u, language_code=lang),
     "unsupported_poll"),
    ("dice", lambda f, u, lang: f.make_update("dice", u, language_code=lang),
     "unsupported_dice"),
    ("edited_message", lambda f, u, lang: f.make_update("edited_message", u, language_code=lang),
     "edited_ignored"),
    ("text_outside_review", lambda f, u, lang: f.make_text_update(u, "hello", language_code=lang),
     "send_photo"),
    ("unknown_command", lambda f, u, lang: f.make_text_update(u, "/frobnicate", language_code=lang),
     "help"),
    ("pdf_document", lambda f, u, lang: _document(f, u, lang, b"%PDF-1.4 ...", "application/pdf",
                                                   "recipe.pdf"), "unsupported_document"),
    ("image_document_not_an_image", lambda f, u, lang: _document(
        f, u, lang, b"this is not a picture at all", "image/jpeg", "photo.jpg"),
     "image_unsupported_format"),
    ("corrupt_image", lambda f, u, lang: _document(f, u, lang, truncated_jpeg(), "image/jpeg",
                                                    "cut.jpg"), "image_corrupt"),
    ("empty_image", lambda f, u, lang: _document(f, u, lang, b"", "image/png", "empty.png"),
     "image_empty"),
    ("decompression_bomb", lambda f, u, lang: _document(
        f, u, lang, png((10_000, 5_000), "1"), "image/png", "bomb.png"), "image_too_many_pixels"),
    ("tiny_image", lambda f, u, lang: _photo(f, u, lang, png((10, 10))), "image_too_small"),
    ("image_without_text", lambda f, u, lang: _photo(f, u, lang, blank_png()), "ocr_no_text"),
    ("text_without_ingredients", lambda f, u, lang: _photo(
        f, u, lang, render(["Preheat the oven to 180 degrees.", "Bake for twenty minutes."])),
     "no_ingredients"),
]  # fmt: skip


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FakeTelegram]:
    tmp: Path = tmp_path_factory.mktemp("types")
    async with FakeTelegram(DEFAULT_TOKEN) as fake:
        bot = BotProcess(fake, f"sqlite+aiosqlite:///{tmp / 'bot.db'}", tmp)
        await bot.start()
        fake.bot_process = bot  # type: ignore[attr-defined]
        yield fake
        await bot.stop()
        assert DEFAULT_TOKEN not in bot.log()


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize(("case", "build", "key"), CASES, ids=[c[0] for c in CASES])
async def test_each_message_type_gets_a_localised_answer(
    running: FakeTelegram, case: str, build: Any, key: str, lang: str
) -> None:
    fake = running
    user = next(_users)
    fake.push(build(fake, user, lang))
    expected = translate(lang, key, limit_mb=20).splitlines()[0]

    def answered() -> list[str]:
        return [
            m.get("text") or ""
            for m in fake.messages(user)
            if m.get("from", {}).get("id") == fake.bot_id and expected in (m.get("text") or "")
        ]

    assert await fake.wait_for(answered, timeout=STEP_TIMEOUT)


async def _metric(port: int, line_start: str) -> float:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        text = await response.text()
    values = [float(x.split()[-1]) for x in text.splitlines() if x.startswith(line_start)]
    return sum(values)


async def test_channel_posts_are_ignored_on_purpose(running: FakeTelegram) -> None:
    fake = running
    bot: BotProcess = fake.bot_process  # type: ignore[attr-defined]
    post = fake.make_update("channel_post", 30_001)
    channel = post["channel_post"]["chat"]["id"]
    fake.push(post)
    seen = 'ji_updates_total{kind="channel_post"}'
    await fake.wait_for(lambda: _metric(bot.metrics_port, seen), timeout=STEP_TIMEOUT)
    assert not fake.sent_messages(channel)
    assert await bot.health("/health/live") == 200
    assert await bot.health("/health/ready") == 200
