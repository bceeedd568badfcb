"""End-to-end harness: the fake Bot API server in the test's loop, the REAL bot as a child
process (`python -m just_ingredients bot`) pointed at it, and helpers that read and press
the buttons of the messages the bot sent."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support import free_port, render_lines

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "photos"
WEBHOOK_SECRET = "s3cret-Webhook_token"
START_TIMEOUT = 30.0
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


@dataclass
class BotProcess:
    """The bot as a child process; its stderr goes to a log file read by the tests."""

    fake: FakeTelegram
    database_url: str
    tmp: Path
    mode: str = "polling"
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    health_port: int = 0
    metrics_port: int = 0
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.tmp / f"bot-{self.starts}.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "TELEGRAM_"))}
        self.health_port, self.metrics_port = free_port(), free_port()
        env.update(
            TELEGRAM_BOT_TOKEN=self.fake.token,
            TELEGRAM_API_URL=self.fake.url,
            DATABASE_URL=self.database_url,
            HEALTH_PORT=str(self.health_port),
            METRICS_PORT=str(self.metrics_port),
            OCR_WORKERS="1",
            OMP_THREAD_LIMIT="1",
            LOG_LEVEL="INFO",
            PYTHONPATH=str(ROOT / "src"),
        )
        if self.mode == "webhook":
            env["WEBHOOK_URL"] = f"http://127.0.0.1:{self.health_port}/telegram"
            env["WEBHOOK_SECRET"] = WEBHOOK_SECRET
        env.update(self.extra_env)
        return env

    async def start(self) -> None:
        self.starts += 1
        self.process = self._spawn()
        await self.fake.wait_for(self._started, timeout=START_TIMEOUT)

    def _spawn(self) -> subprocess.Popen[bytes]:
        flag = "--webhook" if self.mode == "webhook" else "--polling"
        with self.log_path.open("wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "just_ingredients", "bot", flag],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.tmp,
            )

    async def _started(self) -> bool:
        """Ready: /health/ready answers 200 (the bot sets it once polling or the webhook
        is set up)."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"bot exited with {self.process.returncode}:\n{self.log()}")
        try:
            return await self.health() == 200
        except aiohttp.ClientError:
            return False

    def log(self) -> str:
        return "\n".join(
            p.read_text("utf-8", "replace") for p in sorted(self.tmp.glob("bot-*.log"))
        )

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    async def stop(self, wait_seconds: float = 15.0) -> int | None:
        """SIGTERM, then wait without blocking the loop (the fake must keep answering the
        bot's last calls while it shuts down)."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await self.fake.wait_for(lambda: process.poll() is not None, timeout=wait_seconds)
            except TimeoutError:
                process.kill()
                process.wait()
        return process.returncode

    async def health(self, path: str = "/health/ready") -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{self.health_port}{path}") as response,
        ):
            return response.status


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(DEFAULT_TOKEN, webhook_retry_delay=0.1) as server:
        yield server


@pytest.fixture
def sqlite_file_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def make_bot(
    fake: FakeTelegram, tmp_path: Path, sqlite_file_url: str
) -> AsyncIterator[Callable[..., BotProcess]]:
    made: list[BotProcess] = []

    def make(mode: str = "polling", database_url: str | None = None, **env: str) -> BotProcess:
        bot = BotProcess(fake, database_url or sqlite_file_url, tmp_path, mode, dict(env))
        made.append(bot)
        return bot

    yield make
    for bot in made:
        await bot.stop()
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
