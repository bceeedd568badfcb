"""Admin alerts over real HTTP against the fake Bot API: dedupe, trace block, failing channel,
never blocking, and the circuit breaker hook."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from tests.fakes.telegram import FakeTelegram, plain_text

from just_ingredients import __version__
from just_ingredients.alerts import (
    MAX_MESSAGE_LENGTH,
    AdminAlerts,
    Release,
    _context_line,
    alerting_check,
    alerting_error_handler,
    format_alert,
    release_info,
    telegram_sender,
    watch_circuit,
)
from just_ingredients.config import Settings
from just_ingredients.observability import create_metrics
from just_ingredients.vision.breaker import CircuitBreaker

ADMIN = 777


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def make_alerts(
    fake: FakeTelegram, session: aiohttp.ClientSession, **kwargs: object
) -> AdminAlerts:
    return AdminAlerts(telegram_sender(fake.url, fake.token, session), ADMIN, **kwargs)  # type: ignore[arg-type]


def texts(fake: FakeTelegram) -> list[str]:
    return [m["text"] for m in fake.sent_messages(ADMIN)]


def raise_and_catch(message: str) -> BaseException:
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        return exc


async def test_same_key_is_sent_once_per_window_then_counts_the_suppressed_repeats(
    fake: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    alerts = make_alerts(fake, session, window_seconds=600, clock=clock)

    assert alerts.notify("db", "Database error", "connection refused")
    for _ in range(3):
        clock.now += 60
        assert not alerts.notify("db", "Database error", "connection refused")
    assert alerts.notify("other", "Something else")  # another key is not held back
    await alerts.flush()
    assert len(texts(fake)) == 2

    clock.now += 600  # window over
    assert alerts.notify("db", "Database error", "connection refused")
    await alerts.flush()
    last = texts(fake)[-1]
    assert "Database error" in last
    assert "+3 similar alerts suppressed in the last 10 min" in last

    clock.now += 601
    alerts.notify("db", "Database error", "again")
    await alerts.flush()
    assert "suppressed" not in texts(fake)[-1]


async def test_handler_error_has_type_message_update_id_and_a_collapsed_escaped_trace(
    fake: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    alerts = make_alerts(fake, session)
    exc = raise_and_catch("bad <tag> & " + "x" * 9000)  # forces trimming and escaping

    alerts.handler_error(exc, update_id=4242)
    await alerts.flush()

    (call,) = [c for c in fake.calls("sendMessage") if c.ok]
    sent = call.params["text"]
    assert call.params["parse_mode"] == "HTML"
    assert len(sent.encode("utf-16-le")) // 2 <= MAX_MESSAGE_LENGTH
    assert "<blockquote expandable>" in sent
    assert sent.endswith("</blockquote>")
    assert "&lt;tag&gt; &amp;" in sent
    assert "update 4242" in sent
    assert "RuntimeError" in sent
    # the trace is cut at its start: the raising frame and the exception line remain
    quote = sent.split("<blockquote expandable>", 1)[1]
    assert quote.startswith("…")
    assert "raise_and_catch" in quote or "xxxx" in quote
    stored = texts(fake)[0]  # the fake parsed the HTML (Telegram's subset) and accepted it
    assert "Unhandled error in a handler" in stored


async def test_a_short_trace_is_sent_whole(
    fake: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    alerts = make_alerts(fake, session)
    alerts.handler_error(raise_and_catch("boom"), update_id=1)
    await alerts.flush()
    sent = fake.calls("sendMessage")[0].params["text"]
    assert "Traceback (most recent call last)" in sent
    assert "raise_and_catch" in sent


async def test_a_failing_channel_is_logged_once_until_it_recovers(
    fake: FakeTelegram, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="just_ingredients.alerts")
    fake.fail_next("sendMessage", 500, count=50)
    alerts = make_alerts(fake, session)

    for n in range(10):
        alerts.notify(f"key{n}", f"Alert {n}")
        await alerts.flush()

    failures = [r for r in caplog.records if "channel failing" in r.getMessage()]
    assert len(failures) == 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == failures
    assert fake.token not in caplog.text
    assert alerts.failed == 10
    assert not alerts.channel_ok

    fake.reset()  # the channel works again
    alerts.notify("key-ok", "Works again")
    await alerts.flush()
    assert alerts.channel_ok
    assert any("recovered" in r.getMessage() for r in caplog.records)
    assert texts(fake)
    assert "Works again" in texts(fake)[0]


async def test_notify_returns_at_once_while_telegram_is_slow(
    fake: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    fake.delay_next("sendMessage", 5.0)
    alerts = make_alerts(fake, session, send_timeout=10.0)

    started = time.perf_counter()
    alerts.notify("slow", "Slow channel")
    elapsed = time.perf_counter() - started

    assert elapsed < 0.5
    await asyncio.sleep(0.3)
    assert not texts(fake)  # still being sent in the background
    await alerts.aclose(timeout=0.1)  # gives up on it without raising


async def test_a_hung_channel_times_out_and_is_logged(
    fake: FakeTelegram, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    fake.delay_next("sendMessage", 5.0)
    alerts = make_alerts(fake, session, send_timeout=0.2)
    alerts.notify("slow", "Slow channel")
    await alerts.flush(timeout=3)
    assert alerts.failed == 1
    assert "timed out" in caplog.text


async def test_without_admin_chat_alerts_are_only_logged(
    fake: FakeTelegram, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    alerts = AdminAlerts(telegram_sender(fake.url, fake.token, session), None)
    assert not alerts.enabled
    alerts.database_error(ConnectionRefusedError("connection refused"), where="save recipe")
    await alerts.flush()
    assert not fake.calls("sendMessage")
    assert "admin alert: Database error" in caplog.text


async def test_the_token_never_appears_in_an_alert(
    fake: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    alerts = make_alerts(fake, session, secrets=["s3cret-password"])
    alerts.notify(
        "leak",
        "Leak test",
        f"url https://api.telegram.org/bot{fake.token}/getMe and s3cret-password "
        "postgres://user:pw@db/x",
    )
    await alerts.flush()
    sent = fake.calls("sendMessage")[0].params["text"]
    assert fake.token not in sent
    assert "s3cret-password" not in sent
    assert ":pw@" not in sent


async def test_startup_names_version_and_fly_release(
    fake: FakeTelegram, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "FLY_RELEASE_VERSION": "42",
        "FLY_IMAGE_REF": "registry.fly.io/ji:deployment-01",
        "FLY_APP_NAME": "ji-prod",
    }.items():
        monkeypatch.setenv(name, value)
    alerts = make_alerts(fake, session, release=Release.from_settings(Settings()))
    alerts.startup(mode="webhook")
    await alerts.flush()
    text = texts(fake)[0]
    assert "Bot started" in text
    assert "version 0.1.0" in text
    assert "release v42" in text
    assert "registry.fly.io/ji:deployment-01" in text
    assert "ji-prod" in text


def test_release_info_and_context_line_come_from_the_fly_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLY_APP_NAME", "ji-prod")
    monkeypatch.setenv("FLY_MACHINE_ID", "e7843d41c0e889")
    monkeypatch.setenv("FLY_REGION", "cdg")
    monkeypatch.setenv("FLY_IMAGE_REF", "")  # empty: as if unset
    release = Release.from_settings(Settings())
    assert release == Release(app="ji-prod", machine="e7843d41c0e889", region="cdg")
    assert release_info(release) == {
        "version": __version__,
        "app": "ji-prod",
        "machine": "e7843d41c0e889",
        "region": "cdg",
    }
    assert _context_line(release) == "ji-prod · e7843d41c0e889 · cdg"
    assert release_info(Release()) == {"version": __version__}
    assert _context_line(Release()) is None


async def test_ptb_error_handler_reports_the_update_id(
    fake: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    class Update:
        update_id = 99

    class Context:
        error = raise_and_catch("handler blew up")

    alerts = make_alerts(fake, session)
    await alerting_error_handler(alerts)(Update(), Context())
    await alerts.flush()
    assert "update 99" in texts(fake)[0]
    assert "handler blew up" in texts(fake)[0]


async def test_circuit_breaker_changes_alert_and_set_the_gauge(
    fake: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, reset_after=30, clock=clock)
    metrics = create_metrics(process_collector=False)
    alerts = make_alerts(fake, session)
    watch = watch_circuit(breaker, alerts=alerts, metrics=metrics)

    def gauge() -> float | None:
        return metrics.registry.get_sample_value("ji_circuit_state")

    assert gauge() == 0
    # the failures are recorded in an OCR worker thread, as in production
    await asyncio.to_thread(breaker.record_failure)
    await asyncio.to_thread(breaker.record_failure)
    assert gauge() == 1
    await fake.wait_for(lambda: texts(fake))
    assert "circuit breaker opened" in texts(fake)[0]

    clock.now += 31
    assert gauge() == 2  # half-open, read at scrape time
    assert breaker.allow()
    await asyncio.to_thread(breaker.record_success)
    await fake.wait_for(lambda: len(texts(fake)) == 2)
    assert "circuit breaker closed" in texts(fake)[1]
    assert gauge() == 0
    assert watch.changes == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


@pytest.mark.parametrize(
    ("title", "body", "details"),
    [
        ("T" * 50, "é" * 10_000, "<&>" * 10_000),
        ("<b>" * 2000, "a&b " * 5000, None),
        ("short", "🍅" * 5000, "x\n" * 100),
        ("t", "", "y" * 100_000),
    ],
)
def test_format_alert_is_valid_telegram_html_within_the_limit(
    title: str, body: str, details: str | None
) -> None:
    text = format_alert(title, body, details=details, suppressed=2, context="<ji> & co")
    assert len(text.encode("utf-16-le")) // 2 <= MAX_MESSAGE_LENGTH
    plain_text(text, "HTML")  # raises on broken markup, as Telegram would
    assert "+2 similar alerts suppressed" in text
    assert text.endswith("</blockquote>") == bool(details)


async def test_ptb_send_message_works_as_the_sender(fake: FakeTelegram) -> None:
    from telegram import Bot

    async with Bot(fake.token, **fake.bot_kwargs()) as bot:
        alerts = AdminAlerts(bot.send_message, ADMIN)
        alerts.circuit_opened(failures=5, retry_after=30)
        await alerts.flush()
    (text,) = texts(fake)
    assert "OCR circuit breaker opened" in text
    assert "5 time(s) in a row" in text
    assert alerts.sent == 1


async def test_a_failing_readiness_check_alerts_once_per_outage(
    fake: FakeTelegram, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    state = {"up": True}

    async def ping() -> tuple[bool, str]:
        if not state["up"]:
            raise ConnectionRefusedError("connection refused")
        return True, "reachable"

    alerts = make_alerts(fake, session, window_seconds=0)
    check = alerting_check(ping, alerts)
    assert await check() == (True, "reachable")
    state["up"] = False
    for _ in range(3):
        with pytest.raises(ConnectionRefusedError):
            await check()
    await alerts.flush()
    (text,) = texts(fake)
    assert "Database error" in text
    assert "readiness check: ConnectionRefusedError: connection refused" in text

    state["up"] = True
    assert await check() == (True, "reachable")
    assert "database check passing again" in caplog.text
    state["up"] = False
    with pytest.raises(ConnectionRefusedError):
        await check()
    await alerts.flush()
    assert len(texts(fake)) == 2  # a new outage alerts again
