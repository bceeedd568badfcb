"""Faults end to end: Telegram 429/5xx, the database going away, SIGTERM during a scan."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy import make_url
from tests.bot.conftest import BotProcess, Chat, review_photo
from tests.fakes.telegram import FakeTelegram

from just_ingredients.storage import Database

pytestmark = pytest.mark.slow  # a real bot process each (a few seconds)


async def test_telegram_429_and_502_are_retried(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    await make_bot().start()
    alice = Chat(fake, 1301)
    fake.fail_next("sendMessage", 429, retry_after=1)
    await alice.send("/help")
    await alice.wait_text("/recipes")
    fake.fail_next("sendMessage", 502)
    n = alice.count()
    await alice.send("/start")
    await alice.wait_text("Hello", after=n)
    statuses = [c.status for c in fake.calls("sendMessage")]
    assert statuses == [429, 200, 502, 200]


async def test_a_user_who_blocked_the_bot_is_logged_not_alerted(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    bot = make_bot()
    await bot.start()
    fake.block(1351)
    fake.push(fake.make_text_update(1351, "/help"))
    await fake.wait_for(lambda: [c for c in fake.calls("sendMessage") if c.status == 403])
    alice = Chat(fake, 1352)
    await alice.send("/help")  # the bot carries on
    await alice.wait_text("/recipes")
    assert "user unreachable" in bot.log()
    assert "Unhandled error" not in bot.log()


async def test_sigterm_lets_the_scan_in_flight_finish(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    bot = make_bot()
    await bot.start()
    alice = Chat(fake, 1401)
    fake.delay_next("getFile", 1.5)  # the scan is in flight when SIGTERM arrives
    await alice.photo(review_photo(), caption="In flight")
    await alice.wait_text("Reading your photo")
    assert await bot.stop() == 0
    assert "In flight" in (alice.bot_messages()[-1].get("text") or "")


@pytest.mark.postgres
async def test_database_down_the_user_is_told_and_the_draft_survives(
    fake: FakeTelegram,
    make_bot: Callable[..., BotProcess],
    make_pg_database: Callable[[], str],
    pg_admin_url: str,
) -> None:
    url = make_pg_database()
    database = Database.from_url(url)
    try:
        await database.migrate()
    finally:
        await database.dispose()
    name = make_url(url).database
    bot = make_bot(database_url=url)
    await bot.start()
    alice = Chat(fake, 1501)
    await alice.photo(review_photo(), caption="Survivor")
    review = await alice.wait_text("Survivor", "200 g flour")

    def database_allows(allowed: bool) -> None:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            if not allowed:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )

    database_allows(False)
    try:
        n = alice.count()
        await alice.press(review, "✅ Save")
        await alice.wait_text("can't reach my storage", after=n)
        assert await bot.health("/health/live") == 200
        await fake.wait_for(lambda: _status(bot, 503), timeout=15)
    finally:
        database_allows(True)
    await fake.wait_for(lambda: _status(bot, 200), timeout=15)
    await alice.press(review, "✅ Save")  # the same button works once the database is back
    saved = await fake.wait_for(
        lambda: (
            "Saved" in alice.message(review["message_id"])["text"]
            and alice.message(review["message_id"])
        )
    )
    assert "“Survivor” with 5 ingredients" in saved["text"]
    n = alice.count()
    await alice.send("/recipes")
    await alice.wait_text("(1–1 of 1)", after=n)  # nothing half saved, nothing twice


async def _status(bot: BotProcess, expected: int) -> bool:
    try:
        return await bot.health("/health/ready") == expected
    except OSError:
        return False
