"""`just-ingredients smoke`: against a closed port, against a stand-in bot behind the fake Bot
API (every step of the check, pass and fail), and against the real bot in webhook mode."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web as aioweb
from tests.fakes.telegram import FakeTelegram
from tests.support import free_port

from just_ingredients import web
from just_ingredients.config import WEBHOOK_PATH
from just_ingredients.deploy import (
    SmokeOptions,
    SmokeReport,
    missing_ingredients,
    photo_update,
    run_smoke,
)

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "samples" / "photos" / "crepes_fr.jpg"
ADMIN = 4242
SECRET = "smoke-secret_123"


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "ADMIN_CHAT_ID", "TELEGRAM_API_URL")
    }
    return subprocess.run(
        [sys.executable, "-m", "just_ingredients", *args],
        capture_output=True,
        text=True,
        env={**clean, "COLUMNS": "160", **env},
        cwd=ROOT,
        timeout=180,
        check=False,
    )


# ---------------------------------------------------------------------------- pure parts


def test_missing_ingredients_ignores_case_accents_and_ligatures() -> None:
    text = "1. 250 g Farine\n2. 4 OEUFS\n3. ½ l de lait"
    assert missing_ingredients(["farine", "œufs", "lait"], text) == []
    assert missing_ingredients(["sucre", "lait"], text) == ["sucre"]


def test_photo_update_is_a_private_message_from_the_admin() -> None:
    sent = {"message_id": 10, "photo": [{"file_id": "abc", "width": 90, "height": 90}]}
    update = photo_update(ADMIN, sent)
    message = update["message"]
    assert message["chat"] == {"id": ADMIN, "type": "private", "first_name": "smoke"}
    assert message["from"]["id"] == ADMIN
    assert message["from"]["is_bot"] is False
    assert message["photo"] == sent["photo"]
    assert update["update_id"] > 1_000_000_000


# ------------------------------------------------------------------------- closed port


def test_smoke_fails_with_a_clear_report_against_a_closed_port() -> None:
    port = free_port()
    result = cli("smoke", "--base-url", f"http://127.0.0.1:{port}", "--wait", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "GET /health/live" in out
    assert "GET /health/ready" in out
    assert "FAIL" in out
    assert "FAILED" in out
    assert "Cannot connect" in out or "Connect call failed" in out
    assert "Traceback" not in result.stderr


def test_smoke_json_report() -> None:
    port = free_port()
    result = cli("smoke", "--base-url", f"http://127.0.0.1:{port}", "--wait", "0", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [c["status"] for c in report["checks"]][:2] == ["fail", "fail"]


# ----------------------------------------------------- stand-in bot behind the fake Bot API


class StandInBot:
    """Health routes from web.py and a webhook that answers like the bot's review flow:
    "Reading your photo…", then that message edited into the ingredient list."""

    def __init__(self, fake: FakeTelegram, reply: str, *, ready: bool = True) -> None:
        self.fake = fake
        self.reply = reply
        self.updates: list[dict[str, Any]] = []
        readiness = web.Readiness()

        async def database() -> tuple[bool, str]:
            return ready, "ok" if ready else "database down"

        readiness.add("database", database)
        self.app = web.create_public_app(readiness, webhook=(WEBHOOK_PATH, self.on_update, SECRET))
        self.tasks: set[asyncio.Task[None]] = set()

    async def on_update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        task = asyncio.create_task(self.answer(update))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def answer(self, update: dict[str, Any]) -> None:
        chat = update["message"]["chat"]["id"]
        api = f"{self.fake.url}/bot{self.fake.token}"
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{api}/sendMessage", json={"chat_id": chat, "text": "Reading your photo…"}
            ) as response:
                sent = (await response.json())["result"]
            await asyncio.sleep(0.1)
            await session.post(
                f"{api}/editMessageText",
                json={"chat_id": chat, "message_id": sent["message_id"], "text": self.reply},
            )


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def serve_bot(bot: StandInBot) -> tuple[aioweb.AppRunner, str]:
    runner = aioweb.AppRunner(bot.app)
    await runner.setup()
    port = free_port()
    await aioweb.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def smoke_with(
    fake: FakeTelegram, reply: str, *, set_webhook: str | None = "", ready: bool = True,
    secret: str = SECRET, **overrides: Any,
) -> tuple[SmokeReport, StandInBot]:  # fmt: skip
    bot = StandInBot(fake, reply, ready=ready)
    runner, base = await serve_bot(bot)
    try:
        url = base + WEBHOOK_PATH if set_webhook == "" else set_webhook
        if url:
            async with aiohttp.ClientSession() as session:
                await session.post(
                    f"{fake.url}/bot{fake.token}/setWebhook",
                    json={"url": url, "secret_token": SECRET},
                )
        settings: dict[str, Any] = {
            "base_url": base,
            "api_url": fake.url,
            "token": fake.token,
            "webhook_secret": secret,
            "admin_chat_id": ADMIN,
            "photo": PHOTO,
            "wait_seconds": 2,
            "reply_timeout": 5,
        }
        options = SmokeOptions(**{**settings, **overrides})
        report = await run_smoke(options)
    finally:
        await runner.cleanup()
    return report, bot


def statuses(report: SmokeReport) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


REPLY = "Crêpes\n1. 250 g farine\n2. 4 œufs\n3. ½ l lait\n4. 2 c. à s. sucre\n5. 50 g beurre"


async def test_full_pass_through_the_webhook_path(fake: FakeTelegram) -> None:
    report, bot = await smoke_with(fake, REPLY)
    assert report.ok, report.to_json()
    assert statuses(report) == {
        "GET /health/live": "ok",
        "GET /health/ready": "ok",
        "getWebhookInfo": "ok",
        "sendPhoto": "ok",
        f"POST {WEBHOOK_PATH}": "ok",
        "reply": "ok",
    }
    [update] = bot.updates
    sent_photo = fake.calls("sendPhoto")
    assert len(sent_photo) == 1
    assert (
        update["message"]["photo"][-1]["file_id"] == sent_photo[0].response["photo"][-1]["file_id"]
    )


async def test_reply_without_the_expected_ingredients_fails(fake: FakeTelegram) -> None:
    report, _ = await smoke_with(fake, "I found no ingredient in this photo.", reply_timeout=1.5)
    assert not report.ok
    [reply] = [c for c in report.checks if c.name == "reply"]
    assert reply.status == "fail"
    assert "missing farine" in reply.detail


async def test_wrong_webhook_url_fails(fake: FakeTelegram) -> None:
    report, _ = await smoke_with(fake, REPLY, set_webhook="https://elsewhere.example/hook")
    assert statuses(report)["getWebhookInfo"] == "fail"
    assert not report.ok


async def test_recent_webhook_error_fails(fake: FakeTelegram) -> None:
    fake.last_error_date = int(time.time()) - 5
    fake.last_error_message = "Wrong response from the webhook: 502 Bad Gateway"
    report, _ = await smoke_with(fake, REPLY)
    [info] = [c for c in report.checks if c.name == "getWebhookInfo"]
    assert info.status == "fail"
    assert "502" in info.detail


async def test_old_webhook_error_is_ignored(fake: FakeTelegram) -> None:
    fake.last_error_date = int(time.time()) - 3600
    fake.last_error_message = "Connection refused"
    report, _ = await smoke_with(fake, REPLY, since=time.time() - 60)
    assert statuses(report)["getWebhookInfo"] == "ok"


async def test_wrong_secret_is_refused_by_the_webhook(fake: FakeTelegram) -> None:
    report, bot = await smoke_with(fake, REPLY, secret="not-the-secret")
    assert statuses(report)[f"POST {WEBHOOK_PATH}"] == "fail"
    assert bot.updates == []


async def test_unready_instance_fails(fake: FakeTelegram) -> None:
    report, _ = await smoke_with(fake, REPLY, ready=False)
    assert statuses(report)["GET /health/live"] == "ok"
    assert statuses(report)["GET /health/ready"] == "fail"
    assert not report.ok


async def test_real_bot_api_reply_is_a_warning_not_a_pass(fake: FakeTelegram) -> None:
    # Without the fake's /_fake routes (the real api.telegram.org), the reply cannot be read.
    async def not_found(request: aioweb.Request) -> aioweb.Response:
        return aioweb.Response(status=404)

    proxy = aioweb.Application()

    async def forward(request: aioweb.Request) -> aioweb.Response:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{fake.url}{request.path}",
                data=await request.read(),
                headers={"Content-Type": request.headers.get("Content-Type", "")},
            ) as response,
        ):
            return aioweb.Response(
                body=await response.read(),
                status=response.status,
                content_type="application/json",
            )

    proxy.router.add_post("/{tail:bot.*}", forward)
    proxy.router.add_get("/_fake/{tail:.*}", not_found)
    runner = aioweb.AppRunner(proxy)
    await runner.setup()
    port = free_port()
    await aioweb.TCPSite(runner, "127.0.0.1", port).start()
    try:
        bot = StandInBot(fake, REPLY)
        bot_runner, base = await serve_bot(bot)
        try:
            await fake._api_setWebhook(  # type: ignore[attr-defined]
                {"url": base + WEBHOOK_PATH, "secret_token": SECRET}
            )
            report = await run_smoke(
                SmokeOptions(
                    base_url=base,
                    api_url=f"http://127.0.0.1:{port}",
                    token=fake.token,
                    webhook_secret=SECRET,
                    admin_chat_id=ADMIN,
                    photo=PHOTO,
                    wait_seconds=2,
                )
            )
        finally:
            await bot_runner.cleanup()
    finally:
        await runner.cleanup()
    assert statuses(report)["reply"] == "warn"
    assert report.ok


async def test_missing_token_or_admin_chat_is_reported(fake: FakeTelegram) -> None:
    report, _ = await smoke_with(fake, REPLY, token=None)
    assert [c.detail for c in report.checks if c.name == "telegram"] == [
        "TELEGRAM_BOT_TOKEN is not set"
    ]
    report, _ = await smoke_with(fake, REPLY, admin_chat_id=None)
    assert statuses(report)["photo"] == "fail"


# ------------------------------------------------------------ the real bot in webhook mode


def _bot_command_available() -> str | None:
    """None when the real bot can run here, else the reason to skip."""
    try:
        from just_ingredients.bot import runtime  # noqa: F401
    except Exception as exc:  # the bot package is being written by another engineer
        return f"the bot is not importable yet: {type(exc).__name__}: {exc}"
    return None


@pytest.mark.slow
def test_smoke_passes_against_the_real_bot_in_webhook_mode(tmp_path: Path) -> None:
    reason = _bot_command_available()
    if reason:
        pytest.skip(reason)
    from tests.fakes.telegram import DEFAULT_TOKEN, run_fake_telegram_process

    port, metrics_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    with run_fake_telegram_process(DEFAULT_TOKEN) as api_url:
        env = {
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_URL": api_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "HEALTH_PORT": str(port),
            "METRICS_PORT": str(metrics_port),
            "WEBHOOK_URL": base + WEBHOOK_PATH,
            "WEBHOOK_SECRET": SECRET,
            "ADMIN_CHAT_ID": str(ADMIN),
            "OCR_WORKERS": "1",
            "OMP_THREAD_LIMIT": "1",
            "LOG_FORMAT": "json",
        }
        migrated = cli("migrate", **env)
        assert migrated.returncode == 0, migrated.stderr
        clean = {k: v for k, v in os.environ.items() if k not in env}
        bot = subprocess.Popen(
            [sys.executable, "-m", "just_ingredients", "bot", "--webhook"],
            env={**clean, **env},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            result = cli(
                "smoke", "--base-url", base, "--wait", "60", "--reply-timeout", "120",
                "--expect-webhook", base + WEBHOOK_PATH, **env,
            )  # fmt: skip
        finally:
            bot.terminate()
            try:
                logs, _ = bot.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                bot.kill()
                logs, _ = bot.communicate()
    assert result.returncode == 0, result.stdout + result.stderr + "\n--- bot:\n" + logs[-4000:]
    assert "reply" in result.stdout
    assert "PASSED" in result.stdout
