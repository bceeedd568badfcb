"""Bot latency: the real bot process in webhook mode against the fake Bot API server.

Measures
- start-up: process start → `/health/ready` answers 200 (target ≤ 1.5 s);
- text: webhook POST of a text update → the bot's sendMessage reaches the fake (target ≤ 30 ms);
- callback: webhook POST of a button press → the bot's answerCallbackQuery reaches the fake.

    uv run python bench/bot_latency.py [--runs 50] [--starts 3] [--database-url URL]

Prints a table (median, p90, max). SQLite in a temp dir unless --database-url is given.
Requests are paced (`--interval`, 0.1 s): back to back, the bot's own flood limiter
(AIORateLimiter: 30 Bot API calls per second overall, as Telegram allows) would add up to
33 ms per call and the bench would measure the limiter instead of the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram  # noqa: E402
from tests.support import free_port  # noqa: E402

SECRET = "bench-secret-token"
TARGET_REPLY_MS = 30.0
TARGET_START_S = 1.5


def spawn(
    fake: FakeTelegram, database_url: str, tmp: Path, *, bytecode: bool = True
) -> tuple[subprocess.Popen[bytes], int]:
    """Start the bot. With `bytecode`, compiled modules are cached (in a private prefix), as
    in the Docker image (`UV_COMPILE_BYTECODE=1`); without, every start compiles all sources
    (what `PYTHONDONTWRITEBYTECODE=1` does to a dev shell)."""
    health = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "TELEGRAM_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_URL=fake.url,
        DATABASE_URL=database_url,
        HEALTH_PORT=str(health),
        METRICS_PORT=str(free_port()),
        WEBHOOK_URL=f"http://127.0.0.1:{health}/telegram",
        WEBHOOK_SECRET=SECRET,
        OCR_WORKERS="1",
        OMP_THREAD_LIMIT="1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT / "src"),
    )
    log = (tmp / "bot.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "just_ingredients", "bot", "--webhook"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp,
    )
    return process, health


async def wait_ready(
    session: aiohttp.ClientSession, process: subprocess.Popen[bytes], port: int
) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the bot exited with {process.returncode}")
        try:
            async with session.get(f"http://127.0.0.1:{port}/health/ready") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.005)


async def stop(fake: FakeTelegram, process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        await fake.wait_for(lambda: process.poll() is not None, timeout=15)
    except TimeoutError:
        process.kill()
        process.wait()


async def post(session: aiohttp.ClientSession, url: str, update: dict[str, Any]) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with session.post(url, data=json.dumps(update), headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}")


def summary(name: str, values: list[float], unit: str, target: float | None) -> list[str]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    median = statistics.median(ordered)
    verdict = "" if target is None else ("ok" if median <= target else "OVER")
    return [name, str(len(values)), f"{median:.1f}", f"{p90:.1f}", f"{ordered[-1]:.1f}", unit,
            "" if target is None else f"≤ {target:g}", verdict]  # fmt: skip


async def main(runs: int, starts: int, database_url: str | None, interval: float) -> int:
    rows = []
    with tempfile.TemporaryDirectory(prefix="ji-bench-bot-") as tmp_dir:
        tmp = Path(tmp_dir)
        url = database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
        async with FakeTelegram(DEFAULT_TOKEN) as fake, aiohttp.ClientSession() as session:
            # first start: creates the schema (SQLite) and fills the bytecode cache
            process, port = spawn(fake, url, tmp)
            await wait_ready(session, process, port)
            await stop(fake, process)
            cold_times = []
            for _ in range(starts):
                began = time.perf_counter()
                process, port = spawn(fake, url, tmp, bytecode=False)
                await wait_ready(session, process, port)
                cold_times.append(time.perf_counter() - began)
                await stop(fake, process)
            start_times = []
            for _ in range(starts):
                began = time.perf_counter()
                process, port = spawn(fake, url, tmp)
                await wait_ready(session, process, port)
                start_times.append(time.perf_counter() - began)
                if len(start_times) < starts:
                    await stop(fake, process)
            webhook = fake.webhook["url"]
            await fake.wait_for(lambda: fake.webhook["url"])
            webhook = fake.webhook["url"]

            user = 4242
            text_ms = []
            for i in range(runs + 3):
                await asyncio.sleep(interval)
                update = fake.make_text_update(user, "hello")
                sent = len(fake.sent_messages(user))
                began = time.perf_counter()
                await post(session, webhook, update)
                await fake.wait_for(
                    lambda s=sent: len(fake.sent_messages(user)) > s, interval=0.001
                )
                if i >= 3:  # warm-up
                    text_ms.append((time.perf_counter() - began) * 1000)

            fake.push(fake.make_text_update(user, "/language"))
            prompt = await fake.wait_for(
                lambda: [m for m in fake.sent_messages(user) if "reply_markup" in m]
            )
            message = prompt[-1]
            buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
            data = buttons[0]["callback_data"]
            callback_ms = []
            for i in range(runs + 3):
                await asyncio.sleep(interval)
                update = fake.make_callback_update(user, data, message["message_id"])
                query_id = update["callback_query"]["id"]
                began = time.perf_counter()
                await post(session, webhook, update)
                await fake.wait_for(
                    lambda q=query_id: any(
                        a.get("callback_query_id") == q for a in fake.callback_answers()
                    ),
                    interval=0.001,
                )
                if i >= 3:
                    callback_ms.append((time.perf_counter() - began) * 1000)
            await stop(fake, process)

    rows.append(summary("start → /health/ready 200", start_times, "s", TARGET_START_S))
    rows.append(summary("  same, no bytecode cache", cold_times, "s", None))
    rows.append(summary("text update → sendMessage", text_ms, "ms", TARGET_REPLY_MS))
    rows.append(summary("button press → answerCallbackQuery", callback_ms, "ms", None))
    header = ["measure", "n", "median", "p90", "max", "unit", "target", ""]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    backend = "postgresql" if database_url and "postgres" in database_url else "sqlite"
    print(f"database: {backend}; webhook mode; fake Bot API on 127.0.0.1; cpus: {os.cpu_count()}")
    over = [r for r in rows if r[-1] == "OVER"]
    return 1 if over else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--database-url")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between requests")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.runs, args.starts, args.database_url, args.interval)))
