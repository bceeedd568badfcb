"""The watchdog round against the fake Bot API and a stand-in public app (real HTTP), and the
real `watchdog` command in a subprocess."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import web
from tests.fakes.telegram import FakeTelegram

from just_ingredients.watchdog import (
    EXIT_CANNOT_RUN,
    EXIT_FINDINGS,
    EXIT_OK,
    WatchdogConfig,
    default_base_url,
    run_round,
)

ADMIN = 555


class PublicApp:
    """Stands in for the bot's public app: /health/ready and the webhook path."""

    def __init__(self) -> None:
        self.ready_status = 200
        self.webhook_status = 200
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _ready(self, request: web.Request) -> web.Response:
        if self.ready_status == 200:
            return web.json_response({"status": "ready", "checks": {}})
        checks = {
            "database": {"ok": False, "state": "failing", "detail": "connection refused"},
            "ocr": {"ok": True, "state": "ok", "detail": "loaded"},
        }
        return web.json_response({"status": "not ready", "checks": checks}, status=503)

    async def _webhook(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True}, status=self.webhook_status)

    async def __aenter__(self) -> PublicApp:
        app = web.Application()
        app.router.add_get("/health/ready", self._ready)
        app.router.add_post("/telegram", self._webhook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/telegram"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def public() -> AsyncIterator[PublicApp]:
    async with PublicApp() as app:
        yield app


async def set_webhook(fake: FakeTelegram, url: str) -> None:
    """Through the fake's Bot API, as the bot does at start-up."""
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.api_base_url}{fake.token}/setWebhook", json={"url": url}) as r,
    ):
        assert (await r.json())["ok"]


def config(fake: FakeTelegram, public: PublicApp, **overrides: object) -> WatchdogConfig:
    base = WatchdogConfig(
        api_url=fake.url,
        token=fake.token,
        expected_webhook_url=public.webhook_url,
        base_url=public.url,
        admin_chat_id=ADMIN,
        max_pending=5,
        error_window_seconds=600,
        http_timeout=3,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def admin_texts(fake: FakeTelegram) -> list[str]:
    return [m["text"] for m in fake.sent_messages(ADMIN)]


async def test_all_fine_exits_0_and_sends_nothing(fake: FakeTelegram, public: PublicApp) -> None:
    await set_webhook(fake, public.webhook_url)
    fake.push(fake.make_text_update(1, "/start"))
    await fake.wait_for(lambda: not fake.pending_updates())

    report = await run_round(config(fake, public))

    assert report.exit_code == EXIT_OK, report.lines()
    assert [c.name for c in report.checks] == [
        "webhook url",
        "webhook errors",
        "pending updates",
        "health/ready",
    ]
    assert not admin_texts(fake)
    assert report.lines()[-1] == "-> all checks passed"


async def test_wrong_webhook_url_is_a_finding_and_alerts(
    fake: FakeTelegram, public: PublicApp
) -> None:
    await set_webhook(fake, "https://old.example.com/telegram")
    report = await run_round(config(fake, public))
    assert report.exit_code == EXIT_FINDINGS
    (finding,) = report.findings
    assert finding.name == "webhook url"
    assert "https://old.example.com/telegram" in finding.detail
    (text,) = admin_texts(fake)
    assert "Watchdog: 1 finding" in text
    assert "old.example.com" in text
    assert report.alert_sent


async def test_recent_delivery_errors_and_a_backlog_are_findings(
    fake: FakeTelegram, public: PublicApp
) -> None:
    public.webhook_status = 500  # the bot's webhook fails: Telegram records the error
    await set_webhook(fake, public.webhook_url)
    for n in range(8):  # and updates pile up
        fake.push(fake.make_text_update(10 + n, "hello"))
    await fake.wait_for(lambda: fake.last_error_date is not None)

    report = await run_round(config(fake, public))

    names = {c.name: c for c in report.findings}
    assert set(names) == {"webhook errors", "pending updates"}
    assert "Wrong response from the webhook: 500" in names["webhook errors"].detail
    assert "8 waiting (max 5)" in names["pending updates"].detail
    (text,) = admin_texts(fake)
    assert "2 finding(s)" in text
    assert fake.token not in text


async def test_an_old_delivery_error_is_not_a_finding(
    fake: FakeTelegram, public: PublicApp
) -> None:
    await set_webhook(fake, public.webhook_url)
    fake.last_error_date = int(time.time()) - 3 * 3600
    fake.last_error_message = "Connection refused"
    report = await run_round(config(fake, public))
    assert report.exit_code == EXIT_OK, report.lines()
    assert "last 3 h ago" in report.checks[1].detail


async def test_not_ready_names_the_failing_checks(fake: FakeTelegram, public: PublicApp) -> None:
    await set_webhook(fake, public.webhook_url)
    public.ready_status = 503
    report = await run_round(config(fake, public))
    (finding,) = report.findings
    assert finding.name == "health/ready"
    assert "503" in finding.detail
    assert "database (connection refused)" in finding.detail
    assert "ocr" not in finding.detail


async def test_unreachable_health_is_a_finding(fake: FakeTelegram, public: PublicApp) -> None:
    await set_webhook(fake, public.webhook_url)
    report = await run_round(config(fake, public, base_url="http://127.0.0.1:9"))
    (finding,) = report.findings
    assert "unreachable" in finding.detail


async def test_without_admin_chat_findings_are_only_logged(
    fake: FakeTelegram, public: PublicApp
) -> None:
    await set_webhook(fake, "")
    report = await run_round(config(fake, public, admin_chat_id=None))
    assert report.exit_code == EXIT_FINDINGS
    assert not fake.calls("sendMessage")
    assert "ADMIN_CHAT_ID not set" in report.lines()[-1]


def test_base_url_defaults_to_the_webhook_origin() -> None:
    assert default_base_url("https://ji.fly.dev/telegram/abc") == "https://ji.fly.dev"
    assert default_base_url(None) is None


# --------------------------------------------------------------------------- the real command


async def run_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    base.pop("ADMIN_CHAT_ID", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "just_ingredients",
        "watchdog",
        *args,
        env={**base, "COLUMNS": "160", "LOG_LEVEL": "WARNING", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, stdout.decode(), stderr.decode()


def cli_env(fake: FakeTelegram, public: PublicApp) -> dict[str, str]:
    return {
        "TELEGRAM_API_URL": fake.url,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "WEBHOOK_URL": public.webhook_url,
        "ADMIN_CHAT_ID": str(ADMIN),
    }


async def test_command_reports_findings_alerts_and_exits_1(
    fake: FakeTelegram, public: PublicApp
) -> None:
    await set_webhook(fake, public.webhook_url)
    public.ready_status = 503
    for n in range(3):
        fake.push(fake.make_text_update(20 + n, "hi"))
    await fake.wait_for(lambda: not fake.pending_updates())
    fake.push(fake.make_text_update(30, "hi"))

    code, stdout, stderr = await run_cli(
        cli_env(fake, public), "--max-pending", "100", "--error-window-minutes", "5"
    )

    assert code == EXIT_FINDINGS, (stdout, stderr)
    assert "FAIL  health/ready" in stdout
    assert "ok    webhook url" in stdout
    assert "alert sent to chat 555" in stdout
    assert fake.token not in stdout + stderr
    (text,) = admin_texts(fake)
    assert "health/ready" in text


async def test_command_all_fine_exits_0(fake: FakeTelegram, public: PublicApp) -> None:
    await set_webhook(fake, public.webhook_url)
    code, stdout, stderr = await run_cli(cli_env(fake, public))
    assert code == EXIT_OK, (stdout, stderr)
    assert "all checks passed" in stdout


async def test_command_cannot_run_without_a_token_or_with_a_refused_one(
    fake: FakeTelegram, public: PublicApp
) -> None:
    env = cli_env(fake, public)
    code, _, stderr = await run_cli({**env, "TELEGRAM_BOT_TOKEN": ""})
    assert code == EXIT_CANNOT_RUN
    assert "TELEGRAM_BOT_TOKEN is not set" in stderr

    wrong = "987654321:AAWrongTokenWrongTokenWrongToken123"
    code, stdout, stderr = await run_cli({**env, "TELEGRAM_BOT_TOKEN": wrong})
    assert code == EXIT_CANNOT_RUN
    assert "refused the bot token" in stderr
    assert wrong not in stdout + stderr

    code, _, stderr = await run_cli(env, "--base-url", "ftp://x")
    assert code == EXIT_CANNOT_RUN
    assert "--base-url" in stderr
