"""Real-process operations tests: the bot runs as `python -m just_ingredients bot --webhook`
against the in-process fake Bot API (which delivers updates to the bot's webhook over real
HTTP), on free HEALTH_PORT/METRICS_PORT, with real Tesseract.

When the bot command is missing or the process does not come up, the tests are skipped with
the reason found at run time (so the suite stays green while the bot is being built); a bot
that starts and then misbehaves fails them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tests.botproc import ROOT, BotExited, base_env, bot_factory
from tests.botproc import BotProcess as _BotProcess
from tests.botproc import fake as fake  # the fixture
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support import free_port, render_lines

START_TIMEOUT = 60.0
#: what the tests allow between SIGTERM and the exit: Fly's kill_timeout (deploy/fly.*.toml)
SHUTDOWN_GRACE = 45.0


def render(lines: list[str], size: int = 34, repeat: int = 1) -> bytes:
    """A PNG of ``lines`` (``repeat`` times, for a long OCR job), black on white."""
    return render_lines(lines, size, repeat)


@functools.lru_cache(maxsize=1)
def bot_command_problem() -> str | None:
    """Why ``python -m just_ingredients bot`` cannot be used here, or None."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "just_ingredients", "bot", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            env=base_env(),
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
        env={**base_env(), "DATABASE_URL": database_url},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


@dataclass
class BotProcess(_BotProcess):
    """``just-ingredients bot --webhook``; a bot that does not come up skips the test (with
    the reason from its own output) instead of failing it."""

    mode: str = "webhook"
    start_timeout: float = START_TIMEOUT
    stop_timeout: float = SHUTDOWN_GRACE
    poll_interval: float = 0.2

    async def start(self) -> None:
        problem = bot_command_problem()
        if problem:
            pytest.skip(problem)
        try:
            await super().start()
        except BotExited as exc:
            pytest.skip(
                f"the bot process exited with {exc.returncode} at start-up: {_tail(exc.log)}"
            )
        except TimeoutError:
            self.kill()
            pytest.skip(
                f"the bot was not ready within {self.start_timeout:g}s: {_tail(self.log())}"
            )


def _tail(log: str) -> str:
    return " | ".join(log.strip().splitlines()[-4:])[-600:]


async def probe(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=15)) as response:
        body = await response.json(content_type=None) if response.content_length != 0 else None
        return response.status, body


@pytest.fixture
async def make_bot(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[Callable[..., BotProcess]]:
    """`make_bot(database_url=None, **env)`: a webhook bot; logs checked for the token."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
    async with bot_factory(fake, tmp_path, "webhook", url, BotProcess) as (make, made):
        yield make
    for bot in made:
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
