"""Real-process operations tests: the bot runs as `python -m just_ingredients bot --webhook`
against the in-process fake Bot API (which delivers updates to the bot's webhook over real
HTTP), on free HEALTH_PORT/METRICS_PORT, with real Tesseract.

When the bot command is missing or the process does not come up, the tests are skipped with
the reason found at run time (so the suite stays green while the bot is being built); a bot
that starts and then misbehaves fails them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support import free_port, render_lines

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "ops-Webhook_secret-123"
START_TIMEOUT = 60.0
#: what the tests allow between SIGTERM and the exit: Fly's kill_timeout (deploy/fly.*.toml)
SHUTDOWN_GRACE = 45.0


def render(lines: list[str], size: int = 34, repeat: int = 1) -> bytes:
    """A PNG of ``lines`` (``repeat`` times, for a long OCR job), black on white."""
    return render_lines(lines, size, repeat)


def _base_env() -> dict[str, str]:
    drop = ("TELEGRAM_", "WEBHOOK_", "ADMIN_", "DATABASE_", "HEALTH_", "METRICS_", "OCR_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(OMP_THREAD_LIMIT="1", PYTHONPATH=str(ROOT / "src"), LOG_LEVEL="INFO")
    return env


@functools.lru_cache(maxsize=1)
def bot_command_problem() -> str | None:
    """Why ``python -m just_ingredients bot`` cannot be used here, or None."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "just_ingredients", "bot", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            env=_base_env(),
            cwd=ROOT,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"`python -m just_ingredients bot --help` could not run: {exc}"
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        return f"`python -m just_ingredients bot --help` exited {result.returncode}: " + " | ".join(
            tail
        )
    if "--webhook" not in result.stdout:
        return "`just-ingredients bot` has no --webhook option"
    return None


def migrate(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "just_ingredients", "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**_base_env(), "DATABASE_URL": database_url},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


@dataclass
class BotProcess:
    """``just-ingredients bot --webhook`` as a child process; output in a log file."""

    fake: FakeTelegram
    database_url: str
    tmp: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    health_port: int = 0
    metrics_port: int = 0

    @property
    def log_path(self) -> Path:
        return self.tmp / "bot.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.health_port}"

    def env(self) -> dict[str, str]:
        self.health_port, self.metrics_port = free_port(), free_port()
        env = _base_env()
        env.update(
            TELEGRAM_BOT_TOKEN=self.fake.token,
            TELEGRAM_API_URL=self.fake.url,
            WEBHOOK_URL=f"http://127.0.0.1:{self.health_port}/telegram",
            WEBHOOK_SECRET=WEBHOOK_SECRET,
            DATABASE_URL=self.database_url,
            HEALTH_PORT=str(self.health_port),
            METRICS_PORT=str(self.metrics_port),
            OCR_WORKERS="1",
        )
        env.update(self.extra_env)
        return env

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    async def start(self) -> None:
        """Start and wait until /health/ready answers 200; skip the test (with the reason
        from the bot's own output) when the process exits or never gets ready."""
        problem = bot_command_problem()
        if problem:
            pytest.skip(problem)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: ASYNC220 (starting is instant)
                [sys.executable, "-m", "just_ingredients", "bot", "--webhook"],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.tmp,
            )
        deadline = time.monotonic() + START_TIMEOUT
        async with aiohttp.ClientSession() as session:
            while True:
                if self.process.poll() is not None:
                    tail = " | ".join(self.log().strip().splitlines()[-4:])
                    pytest.skip(
                        f"the bot process exited with {self.process.returncode} at start-up: "
                        f"{tail[-600:]}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    status, _ = await probe(session, f"{self.base}/health/ready")
                    if status == 200:
                        return
                if time.monotonic() > deadline:
                    tail = " | ".join(self.log().strip().splitlines()[-4:])
                    self.kill()
                    pytest.skip(f"the bot was not ready within {START_TIMEOUT:g}s: {tail[-600:]}")
                await asyncio.sleep(0.2)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    async def wait_exit(self, timeout: float) -> int:  # noqa: ASYNC109
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not exit within {timeout:g}s")
            await asyncio.sleep(0.05)
        return self.process.returncode

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after the grace. Waits without blocking the event loop: the
        in-process fake must keep answering the bot while it finishes."""
        if self.process is None or self.process.poll() is not None:
            return
        self.terminate()
        try:
            await self.wait_exit(SHUTDOWN_GRACE)
        except TimeoutError:
            self.kill()


async def probe(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=15)) as response:
        body = await response.json(content_type=None) if response.content_length != 0 else None
        return response.status, body


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(DEFAULT_TOKEN, webhook_retry_delay=0.1) as server:
        yield server


@pytest.fixture
async def make_bot(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[Callable[..., BotProcess]]:
    made: list[BotProcess] = []

    def make(database_url: str | None = None, **env: str) -> BotProcess:
        url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
        bot = BotProcess(fake, url, tmp_path, dict(env))
        made.append(bot)
        return bot

    yield make
    for bot in made:
        await bot.stop()
        assert DEFAULT_TOKEN not in bot.log(), "the bot token appeared in a log line"


def bot_messages(fake: FakeTelegram, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in fake.messages(chat_id) if m.get("from", {}).get("id") == fake.bot_id]


def find_text(fake: FakeTelegram, chat_id: int, *needles: str) -> dict[str, Any] | None:
    for message in bot_messages(fake, chat_id):
        text = message.get("text") or message.get("caption") or ""
        if all(n in text for n in needles):
            return message
    return None


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bin(name: str) -> str | None:
    import glob

    candidates = [shutil.which(name), f"/usr/local/bin/{name}"]
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


class ThrowawayCluster:
    """A PostgreSQL cluster this test owns (initdb + pg_ctl on a free port, as the
    ``postgres`` OS user when running as root) that it can stop and start again."""

    def __init__(self) -> None:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not (initdb and pg_ctl):
            raise RuntimeError("initdb/pg_ctl not found")
        if os.geteuid() == 0 and shutil.which("su") is None:
            raise RuntimeError("running as root without `su`: initdb refuses root")
        self.pg_ctl = pg_ctl
        self.dir = Path(tempfile.mkdtemp(prefix="ji-ops-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, user="postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self._run([initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        self.start()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, argv: list[str]) -> None:
        if os.geteuid() == 0:
            argv = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.dir / "log")
        self._run([self.pg_ctl, "-D", str(self.data), "-o", opts, "-l", log, "-w", "start"])

    def stop(self) -> None:
        self._run([self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def pg_cluster() -> Iterator[ThrowawayCluster]:
    try:
        cluster = ThrowawayCluster()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"no throwaway PostgreSQL cluster: {exc}")
    try:
        yield cluster
    finally:
        cluster.destroy()
