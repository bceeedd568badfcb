"""One round of out-of-band checks, for a scheduled Fly machine (``just-ingredients watchdog``).

The bot cannot report that Telegram stopped reaching it, or that it is down: this runs
outside it (``fly machine run --schedule hourly ... watchdog``) and asks the outside world:

- ``getWebhookInfo``: the webhook URL is the expected ``WEBHOOK_URL`` (empty in polling
  mode); no delivery error (``last_error_date``) within the window; no more than
  ``max_pending`` updates waiting;
- the public ``{base_url}/health/ready`` answers 200 (the base URL defaults to the origin of
  ``WEBHOOK_URL``; with neither, the check is skipped and says so).

Findings are sent as one admin alert (a scheduled machine is a fresh process, so
de-duplication within the round is all there is). Exit codes: 0 all fine, 1 findings,
2 could not run (missing token, bad configuration, Telegram refusing the token).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from just_ingredients.alerts import AdminAlerts, Release, bot_api_base, telegram_sender
from just_ingredients.observability import REDACTOR

log = logging.getLogger(__name__)

DEFAULT_MAX_PENDING = 100
#: Fly's finest machine schedule is hourly: an hour's window sees every error once
DEFAULT_ERROR_WINDOW_MINUTES = 60.0
DEFAULT_HTTP_TIMEOUT = 10.0

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_CANNOT_RUN = 2


class WatchdogCannotRun(Exception):
    """The round could not run (exit code 2): missing token, bad config, token refused."""


@dataclass(frozen=True)
class Check:
    """One line of the report. ``ok=None`` means skipped."""

    name: str
    ok: bool | None
    detail: str


@dataclass
class WatchdogReport:
    checks: list[Check] = field(default_factory=list)
    alert_sent: bool = False
    alert_note: str = ""

    @property
    def findings(self) -> list[Check]:
        return [c for c in self.checks if c.ok is False]

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.findings else EXIT_OK

    def lines(self) -> list[str]:
        """The one-screen report (plain text)."""
        out = []
        for check in self.checks:
            mark = {True: "ok  ", False: "FAIL", None: "skip"}[check.ok]
            out.append(f"{mark}  {check.name:<16} {check.detail}")
        verdict = f"{len(self.findings)} finding(s)" if self.findings else "all checks passed"
        out.append(f"-> {verdict}" + (f"; {self.alert_note}" if self.alert_note else ""))
        return out


@dataclass(frozen=True)
class WatchdogConfig:
    api_url: str
    token: str
    expected_webhook_url: str | None
    base_url: str | None
    admin_chat_id: int | None = None
    max_pending: int = DEFAULT_MAX_PENDING
    error_window_seconds: float = DEFAULT_ERROR_WINDOW_MINUTES * 60
    http_timeout: float = DEFAULT_HTTP_TIMEOUT
    #: named in the alert (None: this process's settings)
    release: Release | None = None


def default_base_url(webhook_url: str | None) -> str | None:
    """The public origin of the webhook URL (where ``/health/ready`` is served)."""
    if not webhook_url:
        return None
    parts = urlsplit(webhook_url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def config_from_settings(
    *,
    base_url: str | None = None,
    max_pending: int = DEFAULT_MAX_PENDING,
    error_window_minutes: float = DEFAULT_ERROR_WINDOW_MINUTES,
) -> WatchdogConfig:
    """Read the environment (via :mod:`just_ingredients.config`); raises
    :class:`WatchdogCannotRun` on a missing token or an invalid setting."""
    from pydantic import ValidationError

    from just_ingredients.config import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise WatchdogCannotRun(f"invalid setting {where.upper()}: {first.get('msg')}") from None
    if settings.telegram_bot_token is None:
        raise WatchdogCannotRun("TELEGRAM_BOT_TOKEN is not set")
    if max_pending < 0:
        raise WatchdogCannotRun("--max-pending must be >= 0")
    if error_window_minutes <= 0:
        raise WatchdogCannotRun("--error-window-minutes must be > 0")
    base = base_url or default_base_url(settings.webhook_url)
    if base is not None and urlsplit(base).scheme not in ("http", "https"):
        raise WatchdogCannotRun(f"--base-url must be an http(s) URL, got {base!r}")
    return WatchdogConfig(
        api_url=settings.telegram_api_url,
        token=settings.telegram_bot_token.get_secret_value(),
        expected_webhook_url=settings.webhook_url,
        base_url=base.rstrip("/") if base else None,
        admin_chat_id=settings.admin_chat_id,
        max_pending=max_pending,
        error_window_seconds=error_window_minutes * 60,
        release=Release.from_settings(settings),
    )


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


async def _webhook_info(
    config: WatchdogConfig, session: aiohttp.ClientSession
) -> dict[str, Any] | Check:
    """getWebhookInfo's result, or a failing Check when Telegram cannot be asked."""
    url = f"{bot_api_base(config.api_url)}/bot{config.token}/getWebhookInfo"
    try:
        async with session.get(
            url, timeout=aiohttp.ClientTimeout(total=config.http_timeout)
        ) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
            status = response.status
    except TimeoutError:
        return Check("telegram api", False, f"getWebhookInfo timed out ({config.http_timeout:g}s)")
    except aiohttp.ClientError as exc:
        return Check("telegram api", False, f"unreachable: {type(exc).__name__}")
    if status in (401, 404):
        raise WatchdogCannotRun(f"Telegram refused the bot token ({status})")
    if not isinstance(body, dict) or not body.get("ok") or not isinstance(body.get("result"), dict):
        description = body.get("description") if isinstance(body, dict) else None
        return Check(
            "telegram api", False, f"getWebhookInfo answered {status} {description or ''}".strip()
        )
    result: dict[str, Any] = body["result"]
    return result


def webhook_checks(info: dict[str, Any], config: WatchdogConfig, now: float) -> list[Check]:
    checks = []
    actual = str(info.get("url") or "")
    expected = config.expected_webhook_url or ""
    if actual == expected:
        checks.append(Check("webhook url", True, actual or "(none: polling mode)"))
    else:
        checks.append(
            Check(
                "webhook url", False, f"is {actual or '(none)'!s}, expected {expected or '(none)'}"
            )
        )
    error_date = info.get("last_error_date")
    if isinstance(error_date, int | float) and now - error_date <= config.error_window_seconds:
        message = str(info.get("last_error_message") or "unknown error")
        checks.append(Check("webhook errors", False, f"{message} ({_ago(now - error_date)})"))
    else:
        window = f"{config.error_window_seconds / 60:g} min"
        detail = f"none in the last {window}"
        if isinstance(error_date, int | float):
            detail += f" (last {_ago(now - error_date)})"
        checks.append(Check("webhook errors", True, detail))
    pending = int(info.get("pending_update_count") or 0)
    if pending > config.max_pending:
        checks.append(
            Check("pending updates", False, f"{pending} waiting (max {config.max_pending})")
        )
    else:
        checks.append(
            Check("pending updates", True, f"{pending} waiting (max {config.max_pending})")
        )
    return checks


async def ready_check(config: WatchdogConfig, session: aiohttp.ClientSession) -> Check:
    if not config.base_url:
        return Check("health/ready", None, "no --base-url and no WEBHOOK_URL to derive it from")
    url = f"{config.base_url}/health/ready"
    try:
        async with session.get(
            url, timeout=aiohttp.ClientTimeout(total=config.http_timeout)
        ) as response:
            status = response.status
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
    except TimeoutError:
        return Check("health/ready", False, f"{url} timed out ({config.http_timeout:g}s)")
    except aiohttp.ClientError as exc:
        return Check("health/ready", False, f"{url} unreachable: {type(exc).__name__}")
    if status == 200:
        return Check("health/ready", True, f"{url} 200")
    failing = ""
    if isinstance(body, dict) and isinstance(body.get("checks"), dict):
        names = [
            f"{name} ({c.get('detail', '')})" if c.get("detail") else name
            for name, c in body["checks"].items()
            if isinstance(c, dict) and not c.get("ok")
        ]
        if names:
            failing = ": failing " + ", ".join(names)
    return Check("health/ready", False, f"{url} answered {status}{failing}"[:300])


async def run_round(
    config: WatchdogConfig,
    *,
    session: aiohttp.ClientSession | None = None,
    clock: Callable[[], float] = time.time,
) -> WatchdogReport:
    """Run every check, alert the admin chat about findings, return the report."""
    own = session is None
    session = session or aiohttp.ClientSession()
    try:
        report = WatchdogReport()
        info, ready = await asyncio.gather(
            _webhook_info(config, session), ready_check(config, session)
        )
        if isinstance(info, Check):
            report.checks.append(info)
        else:
            report.checks.extend(webhook_checks(info, config, clock()))
        report.checks.append(ready)
        report.checks = [
            Check(c.name, c.ok, REDACTOR(c.detail).replace(config.token, "[REDACTED]"))
            for c in report.checks
        ]
        await _alert(report, config, session)
        return report
    finally:
        if own:
            await session.close()


async def _alert(
    report: WatchdogReport, config: WatchdogConfig, session: aiohttp.ClientSession
) -> None:
    if not report.findings:
        return
    alerts = AdminAlerts(
        telegram_sender(config.api_url, config.token, session),
        config.admin_chat_id,
        secrets=[config.token],
        release=config.release,
    )
    alerts.watchdog_findings([f"{c.name}: {c.detail}" for c in report.findings])
    if not alerts.enabled:
        report.alert_note = "ADMIN_CHAT_ID not set: findings logged only"
        return
    await alerts.aclose(timeout=config.http_timeout)
    report.alert_sent = alerts.sent > 0
    report.alert_note = (
        f"alert sent to chat {config.admin_chat_id}"
        if report.alert_sent
        else "the alert could not be sent (see the log)"
    )
