"""End-to-end harness: the fake Bot API server in the test's loop, the REAL bot as a child
process (`python -m just_ingredients bot`) pointed at it, and helpers that read and press
the buttons of the messages the bot sent."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.botproc import ROOT, BotProcess, bot_factory
from tests.botproc import WEBHOOK_SECRET as WEBHOOK_SECRET  # re-exported for the tests
from tests.botproc import fake as fake  # the fixture
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support import render_lines

SAMPLES = ROOT / "samples" / "photos"
STEP_TIMEOUT = 20.0


def render(lines: list[str], size: int = 30) -> bytes:
    """A PNG of `lines` in DejaVu Sans, black on white (what a clean photo reads like)."""
    return render_lines(lines, size)


#: a clean list whose third line is doubtful for the parser ("Cups water": a unit, no number)
REVIEW_LINES = ["200 g flour", "3 eggs", "Cups water", "1 egg", "1 pinch of salt"]


def review_photo() -> bytes:
    return render(REVIEW_LINES)


def blank_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(out, format="PNG")
    return out.getvalue()


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.fixture
def sqlite_file_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def make_bot(
    fake: FakeTelegram, tmp_path: Path, sqlite_file_url: str
) -> AsyncIterator[Callable[..., BotProcess]]:
    """`make_bot(mode="polling", database_url=None, **env)`; logs checked for the token."""
    async with bot_factory(fake, tmp_path, "polling", sqlite_file_url) as (make, made):
        yield make
    for bot in made:
        assert DEFAULT_TOKEN not in bot.log(), "the bot token appeared in a log line"


# --- reading what the bot sent -------------------------------------------------------------


class Chat:
    """One user talking to the bot through the fake, in private or in a group."""

    def __init__(self, fake: FakeTelegram, user_id: int, lang: str = "en") -> None:
        self.fake = fake
        self.user_id = user_id
        self.lang = lang

    @property
    def chat_id(self) -> int:
        return self.user_id

    def bot_messages(self) -> list[dict[str, Any]]:
        """Current state of every message the bot sent in this chat (after edits)."""
        return [
            m
            for m in self.fake.messages(self.chat_id)
            if m.get("from", {}).get("id") == self.fake.bot_id
        ]

    def count(self) -> int:
        return len(self.bot_messages())

    async def send(self, text: str, **kwargs: Any) -> dict[str, Any]:
        return self.fake.push(
            self.fake.make_text_update(self.user_id, text, language_code=self.lang, **kwargs)
        )

    async def photo(self, data: bytes, caption: str | None = None, **kw: Any) -> dict[str, Any]:
        file_id = self.fake.add_file(data)
        update = self.fake.make_photo_update(
            self.user_id, file_id, caption=caption, language_code=self.lang, **kw
        )
        return self.fake.push(update)

    async def wait_text(self, *needles: str, after: int = 0) -> dict[str, Any]:
        """The first bot message (from index `after`) whose text/caption has all `needles`."""

        def found() -> dict[str, Any] | None:
            for message in self.bot_messages()[after:]:
                text = message.get("text") or message.get("caption") or ""
                if all(n in text for n in needles):
                    return message
            return None

        result: dict[str, Any] = await self.fake.wait_for(found, timeout=STEP_TIMEOUT)
        return result

    async def wait_answer(self, query_id: str) -> dict[str, Any]:
        """The answerCallbackQuery of the button press `query_id`."""

        def answered() -> list[dict[str, Any]]:
            return [
                a for a in self.fake.callback_answers() if a.get("callback_query_id") == query_id
            ]

        answers = await self.fake.wait_for(answered, timeout=STEP_TIMEOUT)
        return dict(answers[0])

    def message(self, message_id: int) -> dict[str, Any]:
        found = self.fake.message(self.chat_id, message_id)
        assert found is not None
        return found

    @staticmethod
    def buttons(message: dict[str, Any]) -> dict[str, str]:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return {b["text"]: b["callback_data"] for row in rows for b in row}

    async def press(
        self, message: dict[str, Any], label: str, *, user_id: int | None = None
    ) -> str:
        """Press the button `label` of `message`; returns the callback query id."""
        data = self.buttons(self.message(message["message_id"]))[label]
        return await self.press_data(message, data, user_id=user_id)

    async def press_data(
        self, message: dict[str, Any], data: str, *, user_id: int | None = None
    ) -> str:
        update = self.fake.make_callback_update(
            user_id or self.user_id, data, message["message_id"], self.chat_id,
            language_code=self.lang,
        )  # fmt: skip
        self.fake.push(update)
        return str(update["callback_query"]["id"])
