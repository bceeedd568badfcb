"""The real bot as a child process (`python -m just_ingredients bot --polling|--webhook`)
pointed at an in-process fake Bot API: one launcher for tests/bot, tests/operations,
tests/reliability and the benches (bench/bot_latency.py, bench/load.py).

It builds the environment (the caller's, minus the variables the bot reads that the test
sets itself), spawns the process with its output in a log file, waits until
``/health/ready`` answers 200, and stops it: SIGKILL (`kill`), SIGTERM (`terminate`),
`wait_exit`, or `stop` (SIGTERM, then SIGKILL after a grace)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[1]
#: the webhook secret of the bots the tests start (tests/reliability greps the logs for it)
WEBHOOK_SECRET = "s3cret-Webhook_token"
#: environment variables (by prefix) the bot reads and the launcher sets or must not inherit
DROP_ENV = ("TELEGRAM_", "WEBHOOK_", "ADMIN_", "DATABASE_", "HEALTH_", "METRICS_", "OCR_")


def base_env(drop: tuple[str, ...] = DROP_ENV) -> dict[str, str]:
    """This process's environment without the variables starting with ``drop``, plus what
    every child of the tests needs: the sources on PYTHONPATH, one OCR thread, INFO logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(OMP_THREAD_LIMIT="1", PYTHONPATH=str(ROOT / "src"), LOG_LEVEL="INFO")
    return env


class BotExited(RuntimeError):
    """The bot process exited before it was ready; the message holds its whole log."""

    def __init__(self, returncode: int, log: str) -> None:
        super().__init__(f"bot exited with {returncode}:\n{log}")
        self.returncode = returncode
        self.log = log


@dataclass
class BotProcess:
    """The bot as a child process; its output (stdout+stderr) goes to a log file per start,
    ``<tmp>/<name>-<start number>.log``."""

    fake: FakeTelegram
    database_url: str
    tmp: Path
    mode: str = "polling"
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    health_port: int = 0
    metrics_port: int = 0
    starts: int = 0
    webhook_secret: str = WEBHOOK_SECRET
    #: seconds `start` waits for /health/ready, and how often it asks
    start_timeout: float = 30.0
    poll_interval: float = 0.02
    #: seconds `stop` waits after SIGTERM before SIGKILL
    stop_timeout: float = 15.0
    drop_env: tuple[str, ...] = DROP_ENV
    name: str = "bot"

    @property
    def log_path(self) -> Path:
        return self.tmp / f"{self.name}-{self.starts}.log"

    @property
    def base(self) -> str:
        """The URL of the health server (/health/live, /health/ready, /telegram)."""
        return f"http://127.0.0.1:{self.health_port}"

    def env(self) -> dict[str, str]:
        """The child's environment, on two fresh free ports (health and metrics)."""
        self.health_port, self.metrics_port = free_port(), free_port()
        env = base_env(self.drop_env)
        env.update(
            TELEGRAM_BOT_TOKEN=self.fake.token,
            TELEGRAM_API_URL=self.fake.url,
            DATABASE_URL=self.database_url,
            HEALTH_PORT=str(self.health_port),
            METRICS_PORT=str(self.metrics_port),
            OCR_WORKERS="1",
        )
        if self.mode == "webhook":
            env["WEBHOOK_URL"] = f"{self.base}/telegram"
            env["WEBHOOK_SECRET"] = self.webhook_secret
        env.update(self.extra_env)
        return env

    def log(self) -> str:
        """Everything logged by every start of this bot (and of others of the same name in
        the same folder)."""
        return "\n".join(
            p.read_text("utf-8", "replace") for p in sorted(self.tmp.glob(f"{self.name}-*.log"))
        )

    async def start(self) -> None:
        """Spawn and wait until /health/ready answers 200. Raises `BotExited` (a
        RuntimeError with the log) when the process exits first, TimeoutError when it is not
        ready within `start_timeout`."""
        self.starts += 1
        self.process = self._spawn()
        async with aiohttp.ClientSession() as session:
            await self.fake.wait_for(
                lambda: self._ready(session),
                timeout=self.start_timeout,
                interval=self.poll_interval,
            )

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "just_ingredients", "bot", f"--{self.mode}"],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.tmp,
            )

    async def _ready(self, session: aiohttp.ClientSession) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise BotExited(self.process.returncode, self.log())
        try:
            return await self._status(session, "/health/ready") == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def _status(self, session: aiohttp.ClientSession, path: str) -> int:
        timeout = aiohttp.ClientTimeout(total=15)
        async with session.get(f"{self.base}{path}", timeout=timeout) as response:
            return response.status

    async def health(self, path: str = "/health/ready") -> int:
        """The HTTP status of a GET of ``path`` on the health server."""
        async with aiohttp.ClientSession() as session:
            return await self._status(session, path)

    async def metrics(self) -> str:
        """The Prometheus exposition served on METRICS_PORT."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{self.metrics_port}/metrics") as response,
        ):
            assert response.status == 200
            return await response.text()

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM (what Fly sends), without waiting."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    async def wait_exit(self, timeout: float) -> int:  # noqa: ASYNC109
        """The exit code, waiting without blocking the event loop (the in-process fake must
        keep answering the bot's last calls while it shuts down)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not exit within {timeout:g}s")
            await asyncio.sleep(0.05)
        return self.process.returncode

    async def stop(self, wait_seconds: float | None = None) -> int | None:
        """SIGTERM, then SIGKILL after ``wait_seconds`` (default `stop_timeout`); the exit
        code, or None when the bot was never started."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.terminate()
            try:
                await self.wait_exit(self.stop_timeout if wait_seconds is None else wait_seconds)
            except TimeoutError:
                self.kill()
        return self.process.returncode


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API in the test's loop (a conftest imports this fixture to offer it)."""
    async with FakeTelegram(DEFAULT_TOKEN, webhook_retry_delay=0.1) as server:
        yield server


@asynccontextmanager
async def bot_factory(
    fake: FakeTelegram,
    tmp: Path,
    default_mode: str,
    default_url: str,
    kind: type[BotProcess] = BotProcess,
) -> AsyncIterator[tuple[Callable[..., BotProcess], list[BotProcess]]]:
    """For the `make_bot` fixtures: ``make(mode=default_mode, database_url=None, **env)``
    (``env``: extra environment of the bot) and the list of the bots it made, which are all
    stopped on the way out."""
    made: list[BotProcess] = []

    def make(mode: str = default_mode, database_url: str | None = None, **env: str) -> BotProcess:
        bot = kind(fake, database_url or default_url, tmp, mode, dict(env))
        if made:  # a second bot of the same test logs to files of its own
            bot.name = f"{bot.name}{len(made) + 1}"
        made.append(bot)
        return bot

    try:
        yield make, made
    finally:
        for bot in made:
            await bot.stop()
