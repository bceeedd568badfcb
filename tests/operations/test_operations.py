"""Operations, on the real bot process: probes during OCR, readiness following PostgreSQL,
SIGTERM during a scan, and the /metrics exposition."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.fakes.telegram import FakeTelegram
from tests.operations.conftest import (
    ROOT,
    SHUTDOWN_GRACE,
    BotProcess,
    ThrowawayCluster,
    find_text,
    migrate,
    probe,
    render,
)

pytestmark = pytest.mark.slow

USER = 4101
RECIPE = ["Pancakes", "200 g flour", "3 eggs", "300 ml milk", "1 pinch of salt"]
#: every metric of DESIGN.md §3 (counters without the _total suffix, as the parser names them)
METRIC_FAMILIES = {
    "ji_updates",
    "ji_update_seconds",
    "ji_ocr_seconds",
    "ji_ocr_failures",
    "ji_circuit_state",
    "ji_recipes_saved",
    "ji_ingredients_extracted",
    "ji_db_errors",
    "ji_telegram_errors",
}


def send_photo(fake: FakeTelegram, data: bytes, user_id: int = USER) -> None:
    file_id = fake.add_file(data)
    fake.push(fake.make_photo_update(user_id, file_id))


async def poll_probes(
    base: str, results: dict[str, list[int]], stop: asyncio.Event, interval: float = 0.1
) -> None:
    """Probe /health/live and /health/ready until ``stop``; record each answer's status
    (0 when it could not be reached)."""
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            for path in ("/health/live", "/health/ready"):
                try:
                    status, _ = await probe(session, f"{base}{path}")
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                results[path].append(status)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)


async def test_probes_answer_while_a_long_ocr_job_runs(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    bot = make_bot(OCR_TIMEOUT_SECONDS="120")
    await bot.start()
    # a big page of text: seconds of Tesseract on one worker thread
    long_line = "150 g sugar and 2 tablespoons of melted butter, softened"
    send_photo(fake, render([*RECIPE, long_line], size=28, repeat=40))
    await fake.wait_for(lambda: find_text(fake, USER, "Reading"), timeout=30)

    results: dict[str, list[int]] = {"/health/live": [], "/health/ready": []}
    stop = asyncio.Event()
    poller = asyncio.create_task(poll_probes(bot.base, results, stop))
    started = time.monotonic()
    try:
        await fake.wait_for(lambda: find_text(fake, USER, "flour"), timeout=120)
    finally:
        stop.set()
        await poller
    job = time.monotonic() - started

    counts = {path: len(statuses) for path, statuses in results.items()}
    print(f"OCR job ~{job:.1f}s; probes answered during it: {counts}")
    assert results["/health/live"], "no probe completed while the job ran"
    assert set(results["/health/live"]) == {200}, results
    assert set(results["/health/ready"]) == {200}, results


@pytest.mark.postgres
async def test_ready_follows_postgres_while_live_stays_up(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess], pg_cluster: ThrowawayCluster
) -> None:
    await asyncio.to_thread(migrate, pg_cluster.url)
    bot = make_bot(database_url=pg_cluster.url)
    await bot.start()
    live: list[int] = []

    async def statuses(session: aiohttp.ClientSession) -> tuple[int, int]:
        live_status, _ = await probe(session, f"{bot.base}/health/live")
        ready_status, body = await probe(session, f"{bot.base}/health/ready")
        live.append(live_status)
        return ready_status, body

    async with aiohttp.ClientSession() as session:
        await asyncio.to_thread(pg_cluster.stop)

        async def ready_is(expected: int) -> bool:
            status, _ = await statuses(session)
            return status == expected

        await fake.wait_for(lambda: ready_is(503), timeout=60, interval=0.25)
        _, body = await statuses(session)
        assert body["checks"]["database"]["ok"] is False

        await asyncio.to_thread(pg_cluster.start)
        await fake.wait_for(lambda: ready_is(200), timeout=60, interval=0.25)

    assert live
    assert set(live) == {200}
    assert bot.process is not None
    assert bot.process.poll() is None  # the process rode it out


async def test_sigterm_during_a_scan_delivers_the_result_then_exits_0(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    bot = make_bot()
    await bot.start()
    fake.delay_next("getFile", 3.0)  # the scan is surely in flight when the signal comes
    send_photo(fake, render(RECIPE))
    await fake.wait_for(lambda: find_text(fake, USER, "Reading"), timeout=30)
    assert not find_text(fake, USER, "flour")

    bot.terminate()
    signalled = time.monotonic()
    code = await bot.wait_exit(SHUTDOWN_GRACE)
    took = time.monotonic() - signalled

    assert code == 0, bot.log()[-2000:]
    review = find_text(fake, USER, "flour")
    assert review is not None, bot.log()[-2000:]
    assert "eggs" in review["text"]
    print(f"exited {took:.1f}s after SIGTERM")


async def test_metrics_parse_and_name_every_design_metric(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    bot = make_bot()
    await bot.start()
    families = {f.name for f in text_string_to_metric_families(await bot.metrics())}
    assert families >= METRIC_FAMILIES, METRIC_FAMILIES - families
    assert "process_cpu_seconds" in families
    # the public port does not serve metrics
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{bot.base}/metrics") as response,
    ):
        assert response.status == 404


async def test_updates_arriving_during_shutdown_are_refused_for_redelivery(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    """Once SIGTERM came, a webhook POST gets 503 (Telegram delivers it again, to the next
    instance) instead of 200 for an update the stopping process would never handle."""
    runtime = ROOT / "src" / "just_ingredients" / "bot" / "runtime.py"
    if not runtime.exists() or "stopping_middleware" not in runtime.read_text("utf-8"):
        pytest.skip("bot/runtime.py does not mount shutdown.stopping_middleware yet")
    bot = make_bot()
    await bot.start()
    fake.delay_next("getFile", 3.0)
    send_photo(fake, render(RECIPE))
    await fake.wait_for(lambda: find_text(fake, USER, "Reading"), timeout=30)

    bot.terminate()
    async with aiohttp.ClientSession() as session:

        async def not_ready() -> bool:
            status, _ = await probe(session, f"{bot.base}/health/ready")
            return status == 503

        await fake.wait_for(not_ready, timeout=10)
    late = fake.make_text_update(USER, "/help")
    assert await fake.post_to_webhook(late) == [503]

    assert await bot.wait_exit(SHUTDOWN_GRACE) == 0, bot.log()[-2000:]
    assert find_text(fake, USER, "flour") is not None  # the scan in flight still finished
