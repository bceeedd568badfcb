"""Health, readiness, webhook secret and metrics endpoints over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from just_ingredients.observability import create_metrics
from just_ingredients.web import (
    SECRET_HEADER,
    CachedCheck,
    Readiness,
    add_webhook_route,
    create_metrics_app,
    create_public_app,
    secret_token_matches,
    serve,
)

METRIC_NAMES = {
    "ji_updates_total",
    "ji_update_seconds",
    "ji_ocr_seconds",
    "ji_ocr_failures_total",
    "ji_circuit_state",
    "ji_recipes_saved_total",
    "ji_ingredients_extracted_total",
    "ji_db_errors_total",
    "ji_telegram_errors_total",
}


class CountingCheck:
    def __init__(self, ok: bool = True, detail: str = "fine") -> None:
        self.calls = 0
        self.ok = ok
        self.detail = detail

    async def __call__(self) -> tuple[bool, str]:
        self.calls += 1
        return self.ok, self.detail


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as resp:
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.text()


async def test_live_answers_ok(http: aiohttp.ClientSession) -> None:
    async with serve(create_public_app(), host="127.0.0.1", health_port=0) as servers:
        status, body = await get(http, f"http://127.0.0.1:{servers.health_port}/health/live")
    assert (status, body) == (200, {"status": "ok"})


async def test_ready_is_200_when_every_check_passes(http: aiohttp.ClientSession) -> None:
    readiness = Readiness()
    readiness.add("database", CountingCheck(detail="reachable"))
    readiness.add("ocr", CountingCheck(detail="engine loaded"))
    async with serve(create_public_app(readiness), host="127.0.0.1", health_port=0) as servers:
        status, body = await get(http, f"http://127.0.0.1:{servers.health_port}/health/ready")
    assert status == 200
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"ok": True, "state": "ok", "detail": "reachable"}
    assert body["checks"]["ocr"]["state"] == "ok"


async def test_ready_is_503_naming_the_failing_check(http: aiohttp.ClientSession) -> None:
    async def broken_db() -> tuple[bool, str]:
        raise ConnectionError("connect to postgresql://ji:hunter2secret@db:5432/ji failed")

    async def hanging() -> tuple[bool, str]:
        await asyncio.sleep(10)
        return True, "never"

    readiness = Readiness(timeout=0.2)
    readiness.add("database", broken_db, cache_seconds=5)
    readiness.add("circuit", CountingCheck(ok=False, detail="open"))
    readiness.add("ocr", hanging)
    readiness.add("config", CountingCheck())
    async with serve(create_public_app(readiness), host="127.0.0.1", health_port=0) as servers:
        status, body = await get(http, f"http://127.0.0.1:{servers.health_port}/health/ready")
    assert status == 503
    assert body["status"] == "not ready"
    checks = body["checks"]
    assert checks["database"]["state"] == "failing"
    assert checks["database"]["detail"].startswith("ConnectionError")
    assert "hunter2secret" not in checks["database"]["detail"]
    assert checks["circuit"] == {"ok": False, "state": "failing", "detail": "open"}
    assert "timed out" in checks["ocr"]["detail"]
    assert checks["config"]["state"] == "ok"


async def test_non_critical_check_is_reported_but_keeps_ready() -> None:
    readiness = Readiness()
    readiness.add("database", CountingCheck())
    readiness.add("circuit", CountingCheck(ok=False, detail="open"), critical=False)
    ready, checks = await readiness.run()
    assert ready
    assert checks["circuit"] == {
        "ok": False,
        "state": "failing",
        "detail": "open",
        "critical": False,
    }


async def test_database_check_is_cached_between_probes(http: aiohttp.ClientSession) -> None:
    database = CountingCheck()
    other = CountingCheck()
    readiness = Readiness()
    readiness.add("database", database, cache_seconds=30)
    readiness.add("ocr", other)
    async with serve(create_public_app(readiness), host="127.0.0.1", health_port=0) as servers:
        url = f"http://127.0.0.1:{servers.health_port}/health/ready"
        for _ in range(5):
            assert (await get(http, url))[0] == 200
        database.ok = False  # still cached as ok
        assert (await get(http, url))[0] == 200
    assert database.calls == 1
    assert other.calls == 6


async def test_cached_check_expires_and_caches_failures() -> None:
    now = [0.0]
    calls = 0

    async def flaky() -> tuple[bool, str]:
        nonlocal calls
        calls += 1
        raise OSError("down")

    cached = CachedCheck(flaky, ttl=5, clock=lambda: now[0])
    assert await cached() == (False, "OSError: down")
    now[0] = 4.9
    await asyncio.gather(cached(), cached())
    assert calls == 1
    now[0] = 5.1
    await cached()
    assert calls == 2


async def test_metrics_port_serves_every_metric(http: aiohttp.ClientSession) -> None:
    metrics = create_metrics()
    metrics.updates.labels(kind="photo").inc()
    metrics.update_seconds.observe(0.3)
    metrics.ocr_seconds.observe(2.5)
    metrics.ocr_failures.labels(reason="timeout").inc()
    metrics.set_circuit_state("half_open")
    metrics.recipes_saved.inc()
    metrics.ingredients_extracted.inc(7)
    metrics.db_errors.inc()
    metrics.telegram_errors.labels(method="sendMessage").inc()
    async with serve(
        create_public_app(),
        create_metrics_app(metrics),
        host="127.0.0.1",
        health_port=0,
        metrics_port=0,
    ) as servers:
        assert servers.metrics_port not in (None, servers.health_port)
        async with http.get(f"http://127.0.0.1:{servers.metrics_port}/metrics") as resp:
            assert resp.status == 200
            assert resp.content_type == "text/plain"
            text = await resp.text()
        public_status, _ = await get(http, f"http://127.0.0.1:{servers.health_port}/metrics")
    assert public_status == 404

    samples = {
        sample.name: sample
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    for name in METRIC_NAMES:
        assert f"# TYPE {name} " in text
        assert any(s == name or s.startswith(f"{name}_") for s in samples), name
    assert samples["ji_circuit_state"].value == 2
    assert samples["ji_ingredients_extracted_total"].value == 7
    assert any(s.startswith("process_") for s in samples)  # the process collector
    assert 'ji_ocr_failures_total{reason="crash"} 0.0' in text  # pre-initialised reasons
    assert 'ji_ocr_seconds_bucket{le="30.0"} 1.0' in text


def test_circuit_state_accepts_names_and_numbers() -> None:
    metrics = create_metrics(process_collector=False)
    metrics.set_circuit_state("open")
    assert metrics.circuit_state._value.get() == 1
    metrics.set_circuit_state(0)
    assert metrics.circuit_state._value.get() == 0
    with pytest.raises((KeyError, ValueError)):
        metrics.set_circuit_state("melted")


def test_secret_token_matches() -> None:
    assert secret_token_matches("s3cret", "s3cret")
    assert not secret_token_matches("s3cre", "s3cret")
    assert not secret_token_matches(None, "s3cret")
    assert not secret_token_matches("", "s3cret")
    assert not secret_token_matches("anything", None)
    assert not secret_token_matches("é-non-ascii", "s3cret")


async def test_webhook_route_checks_the_secret(http: aiohttp.ClientSession) -> None:
    received: list[dict[str, Any]] = []

    async def on_update(update: dict[str, Any]) -> None:
        if update.get("boom"):
            raise RuntimeError("queue closed")
        received.append(update)

    app = create_public_app()
    add_webhook_route(app, "/telegram/webhook", on_update, secret="s3cret_Token")
    async with serve(app, host="127.0.0.1", health_port=0) as servers:
        url = f"http://127.0.0.1:{servers.health_port}/telegram/webhook"
        update = {"update_id": 7, "message": {"text": "hi"}}
        async with http.post(url, json=update) as resp:
            assert resp.status == 403
        async with http.post(url, json=update, headers={SECRET_HEADER: "wrong"}) as resp:
            assert resp.status == 403
        assert received == []
        good = {SECRET_HEADER: "s3cret_Token"}
        async with http.post(url, json=update, headers=good) as resp:
            assert resp.status == 200
        async with http.post(url, data=b"not json", headers=good) as resp:
            assert resp.status == 400
        async with http.post(url, json={"no": "id"}, headers=good) as resp:
            assert resp.status == 400
        async with http.post(url, json={"update_id": 8, "boom": 1}, headers=good) as resp:
            assert resp.status == 500
    assert received == [update]


def test_webhook_without_secret_is_refused() -> None:
    async def on_update(update: dict[str, Any]) -> None:
        return None

    with pytest.raises(ValueError, match="secret"):
        add_webhook_route(create_public_app(), "/hook", on_update, secret="")


async def test_serve_releases_the_ports(http: aiohttp.ClientSession) -> None:
    async with serve(create_public_app(), host="127.0.0.1", health_port=0) as servers:
        port = servers.health_port
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(http, f"http://127.0.0.1:{port}/health/live")


@pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")
async def test_counting_request_counts_failed_telegram_calls() -> None:
    from telegram import Bot
    from telegram.error import BadRequest, RetryAfter
    from tests.fakes.telegram import FakeTelegram

    from just_ingredients.web import CountingHTTPXRequest

    metrics = create_metrics(process_collector=False)
    async with FakeTelegram() as fake:
        request = CountingHTTPXRequest(metrics=metrics)
        async with Bot(fake.token, request=request, **fake.bot_kwargs()) as bot:
            await bot.send_message(1, "fine")
            fake.fail_next("sendMessage", 429, retry_after=1)
            with pytest.raises(RetryAfter):
                await bot.send_message(1, "flood")
            with pytest.raises(BadRequest):
                await bot.edit_message_text("x", 1, 999)
            file_id = fake.add_file(b"data")
            tg_file = await bot.get_file(file_id)
            fake.fail_file_downloads()
            with pytest.raises(Exception):  # noqa: B017, PT011 - NetworkError
                await tg_file.download_as_bytearray()
    text = metrics.exposition().decode()
    assert 'ji_telegram_errors_total{method="sendMessage"} 1.0' in text
    assert 'ji_telegram_errors_total{method="editMessageText"} 1.0' in text
    assert 'ji_telegram_errors_total{method="download"} 1.0' in text
    assert "getMe" not in text
