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
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.botproc import DROP_ENV, BotProcess  # noqa: E402
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram  # noqa: E402

SECRET = "bench-secret-token"
TARGET_REPLY_MS = 30.0
TARGET_START_S = 1.5


def launcher(fake: FakeTelegram, database_url: str, tmp: Path, *, bytecode: bool) -> BotProcess:
    """The bot in webhook mode. With `bytecode`, compiled modules are cached (in a private
    prefix), as in the Docker image (`UV_COMPILE_BYTECODE=1`); without, every start compiles
    all sources (what `PYTHONDONTWRITEBYTECODE=1` does to a dev shell)."""
    env = {"LOG_LEVEL": "WARNING"}
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return BotProcess(
        fake,
        database_url,
        tmp,
        "webhook",
        env,
        webhook_secret=SECRET,
        start_timeout=120.0,
        poll_interval=0.005,
        drop_env=(*DROP_ENV, "PYTHONDONTWRITEBYTECODE"),
        name="bot-cached" if bytecode else "bot-cold",
    )


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
            bot = launcher(fake, url, tmp, bytecode=True)
            cold = launcher(fake, url, tmp, bytecode=False)
            # first start: creates the schema (SQLite) and fills the bytecode cache
            await bot.start()
            await bot.stop()
            cold_times = []
            for _ in range(starts):
                began = time.perf_counter()
                await cold.start()
                cold_times.append(time.perf_counter() - began)
                await cold.stop()
            start_times = []
            for _ in range(starts):
                began = time.perf_counter()
                await bot.start()
                start_times.append(time.perf_counter() - began)
                if len(start_times) < starts:
                    await bot.stop()
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
            await bot.stop()

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
