"""Issue #8, faults end to end against the real bot process (webhook mode).

Already covered elsewhere and not repeated here (see the README summary):
tests/bot/test_e2e_faults.py (429/502 on sendMessage retried, a blocked user, database
refusing connections at save time, SIGTERM during a scan), tests/bot/test_e2e_conversation.py
(kill -9 mid-review and while a question is pending, duplicate deliveries, forged buttons),
tests/operations/test_operations.py (ready follows PostgreSQL, probes during long OCR,
SIGTERM, updates refused while stopping, /metrics only on METRICS_PORT).
"""

from __future__ import annotations

import asyncio
import collections
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.bot.conftest import STEP_TIMEOUT, BotProcess, Chat, review_photo
from tests.fakes.telegram import FakeTelegram
from tests.operations.conftest import ThrowawayCluster, render
from tests.reliability.conftest import pg_with_password, tr

pytestmark = pytest.mark.slow

ADMIN_CHAT = 777_000
#: a dense page: ~1.5 s of Tesseract here, far over OCR_TIMEOUT_SECONDS=0.5 below
DENSE = ["150 g sugar and 2 tablespoons of melted butter, softened", "200 g flour", "3 eggs"]


async def status(bot: BotProcess, path: str) -> int:
    try:
        return await bot.health(path)
    except (aiohttp.ClientError, OSError):
        return 0


def saved_recipes(url: str, telegram_id: int) -> list[tuple[str, int]]:
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        return [
            (name, count)
            for name, count in conn.execute(
                "SELECT r.name, count(i.position) FROM recipes r JOIN users u ON u.id = r.user_id"
                " LEFT JOIN ingredients i ON i.recipe_id = r.id WHERE u.telegram_id = %s"
                " GROUP BY r.id, r.name",
                (telegram_id,),
            ).fetchall()
        ]


def texts_sent(fake: FakeTelegram, chat_id: int) -> collections.Counter[str]:
    """How many times each text reached the chat (successful sendMessage calls only)."""
    return collections.Counter(
        str(c.params.get("text"))
        for c in fake.calls("sendMessage")
        if c.ok and c.params.get("chat_id") == chat_id
    )


@pytest.mark.postgres
async def test_postgres_stopped_mid_save_nothing_half_written_then_confirm_works(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess], pg_cluster: ThrowawayCluster
) -> None:
    url = pg_with_password(pg_cluster)
    bot = make_bot(database_url=url)
    await bot.start()
    alice = Chat(fake, 3001)
    await alice.photo(review_photo(), caption="Mid save")
    review = await alice.wait_text("Mid save", "200 g flour")
    fake.delay_next("answerCallbackQuery", 1.0)  # keep the save in flight a little longer
    await alice.press(review, "✅ Save")
    await asyncio.to_thread(pg_cluster.stop)  # pg_ctl -m fast: open connections are cut
    try:

        def outcome() -> str | None:
            if "Saved" in (alice.message(review["message_id"]).get("text") or ""):
                return "saved"
            if any("can't reach my storage" in (m.get("text") or "") for m in alice.bot_messages()):
                return "told to retry"
            return None

        result = await fake.wait_for(outcome, timeout=30)
        assert await status(bot, "/health/live") == 200
        assert bot.process is not None
        assert bot.process.poll() is None
    finally:
        await asyncio.to_thread(pg_cluster.start)
    await fake.wait_for(lambda: _is(bot, 200), timeout=60)
    if result == "told to retry":
        assert saved_recipes(url, alice.user_id) == []  # nothing half written
        await alice.press(review, "✅ Save")  # the draft survived: the same button works
        await fake.wait_for(
            lambda: "Saved" in (alice.message(review["message_id"]).get("text") or ""),
            timeout=STEP_TIMEOUT,
        )
    assert saved_recipes(url, alice.user_id) == [("Mid save", 5)]  # once, whole
    print(f"PostgreSQL stopped mid-save: {result}")


async def _is(bot: BotProcess, expected: int) -> bool:
    return await status(bot, "/health/ready") == expected


@pytest.mark.postgres
async def test_postgres_down_at_start_live_up_ready_down_then_recovers(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess], pg_cluster: ThrowawayCluster
) -> None:
    await asyncio.to_thread(pg_cluster.stop)
    bot = make_bot(database_url=pg_with_password(pg_cluster))
    bot.starts += 1
    bot.process = bot._spawn()
    try:

        async def live_and_not_ready() -> bool:
            assert bot.process is not None
            assert bot.process.poll() is None, f"exited {bot.process.returncode}"
            return await status(bot, "/health/live") == 200 and await _is(bot, 503)

        await fake.wait_for(live_and_not_ready, timeout=30, interval=0.2)
    finally:
        await asyncio.to_thread(pg_cluster.start)
    await fake.wait_for(lambda: _is(bot, 200), timeout=60, interval=0.25)
    alice = Chat(fake, 3101)
    await alice.send("/start")
    await alice.wait_text("Hello")


async def test_telegram_5xx_429_and_timeouts_are_retried_without_duplicates(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    await make_bot().start()
    users = iter(range(3201, 3300))

    # 500 and 503 on sendMessage: retried, the answer arrives once
    for code in (500, 503):
        chat = Chat(fake, next(users))
        fake.fail_next("sendMessage", code)
        await chat.send("/help")
        await chat.wait_text("/recipes")
        assert max(texts_sent(fake, chat.chat_id).values()) == 1

    # 429 then 502 on the edit that shows the review
    chat = Chat(fake, next(users))
    fake.fail_next("editMessageText", 429, retry_after=1)
    await chat.photo(review_photo())
    await chat.wait_text("200 g flour")
    fake.fail_next("getFile", 502)
    other = Chat(fake, next(users))
    await other.photo(review_photo(), caption="After a 502")
    await other.wait_text("After a 502", "200 g flour")
    assert max(texts_sent(fake, other.chat_id).values()) == 1

    # the file download fails once (500): the user gets an answer, not silence
    chat = Chat(fake, next(users))
    fake.fail_file_downloads(1, 500)
    await chat.photo(review_photo(), caption="Download failed")

    def answered() -> str | None:
        for m in chat.bot_messages():
            text = m.get("text") or ""
            if "Reading your photo" not in text:
                return text
        return None

    final = await fake.wait_for(answered, timeout=STEP_TIMEOUT)
    print(f"download failed once → {final[:80]!r}")
    assert "Download failed" in final or "try again" in final.lower(), final
    assert max(texts_sent(fake, chat.chat_id).values()) == 1

    # a sendMessage slower than the bot's read timeout (15 s): Telegram did deliver it; the
    # bot must not send it twice (PTB TimedOut is not retried), and keeps serving
    chat = Chat(fake, next(users))
    fake.delay_next("sendMessage", 16.5)
    await chat.send("/help")
    await chat.wait_text("/recipes")
    later = Chat(fake, next(users))
    await later.send("/start")
    await later.wait_text("Hello")
    await asyncio.sleep(1.0)
    counts = texts_sent(fake, chat.chat_id)
    assert max(counts.values()) == 1, counts


async def test_ocr_timeouts_open_the_breaker_alert_the_admin_and_it_recovers(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    bot = make_bot(OCR_TIMEOUT_SECONDS="0.5", ADMIN_CHAT_ID=str(ADMIN_CHAT))
    await bot.start()
    dense = render(DENSE, size=28, repeat=30)
    for i in range(5):  # the breaker's threshold: 5 consecutive failures
        chat = Chat(fake, 3301 + i, lang="fr" if i % 2 else "en")
        await chat.photo(dense)
        await chat.wait_text(tr(chat.lang, "ocr_timeout").splitlines()[0])
    alert = await fake.wait_for(
        lambda: [m for m in fake.sent_messages(ADMIN_CHAT) if "circuit breaker opened" in str(m)],
        timeout=STEP_TIMEOUT,
    )
    assert len(alert) == 1
    await fake.wait_for(lambda: _is(bot, 503), timeout=10)  # ready follows the circuit
    assert await status(bot, "/health/live") == 200
    paused = Chat(fake, 3310)
    await paused.photo(review_photo())  # refused at once while open, with a clear answer
    await paused.wait_text(tr("en", "ocr_circuit_open").splitlines()[0])
    opened = time.monotonic()

    # after reset_after (30 s) one trial scan goes through; it succeeds: closed again
    async def recovered() -> bool:
        chat = Chat(fake, 3320 + int(time.monotonic() - opened))
        await chat.photo(review_photo(), caption="After the pause")
        await asyncio.sleep(1.0)
        return any("After the pause" in (m.get("text") or "") for m in chat.bot_messages())

    await fake.wait_for(recovered, timeout=60, interval=3.0)
    await fake.wait_for(lambda: _is(bot, 200), timeout=10)
    await fake.wait_for(
        lambda: [m for m in fake.sent_messages(ADMIN_CHAT) if "breaker closed" in str(m)],
        timeout=STEP_TIMEOUT,
    )
    print(f"circuit open → closed in {time.monotonic() - opened:.0f}s")


async def test_out_of_order_and_late_duplicate_webhook_deliveries(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    await make_bot().start()
    alice = Chat(fake, 3401)
    first = fake.make_text_update(alice.user_id, "/help")
    second = fake.make_text_update(alice.user_id, "/start")
    assert first["update_id"] < second["update_id"]
    assert await fake.post_to_webhook(second) == [200]  # the later update arrives first
    assert await fake.post_to_webhook(first) == [200]
    await alice.wait_text("Hello")
    await alice.wait_text("/recipes")
    # long after, Telegram redelivers both (e.g. it missed our 200s): nothing happens again
    assert await fake.post_to_webhook(first, times=2) == [200, 200]
    assert await fake.post_to_webhook(second) == [200]
    bob = Chat(fake, 3402)
    await bob.send("/start")
    await bob.wait_text("Hello")
    assert alice.count() == 2

    # the same photo update delivered 3 times at once: one scan, one review
    carol = Chat(fake, 3403)
    photo = fake.make_photo_update(carol.user_id, [fake.add_file(review_photo())])
    statuses = await asyncio.gather(*(fake.post_to_webhook(photo) for _ in range(3)))
    assert [s for group in statuses for s in group] == [200, 200, 200]
    await carol.wait_text("200 g flour")
    await bob.send("/help")
    await bob.wait_text("/recipes")
    await asyncio.sleep(1.0)
    assert carol.count() == 1, [m.get("text") for m in carol.bot_messages()]
    assert len([c for c in fake.calls("getFile") if c.ok]) == 1


async def metric(bot: BotProcess, name: str) -> dict[str, float]:
    """{label value: sample} of a one-label counter on the bot's METRICS_PORT."""
    [family] = [f for f in text_string_to_metric_families(await bot.metrics()) if f.name == name]
    return {
        next(iter(s.labels.values())): s.value for s in family.samples if s.name.endswith("_total")
    }


def inbox_rows(db_file: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_file) as conn:
        return conn.execute("SELECT update_id, attempts, progress FROM inbox").fetchall()


async def test_sigkill_mid_scan_the_photo_is_read_again_after_the_restart(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """kill -9 (an OOM kill on a 256 MB machine) while a photo is being read: the webhook
    had answered 200, so Telegram will not send it again. The inbox kept it: the restarted
    process takes it over once the dead one's lease ends and reads it again, editing the
    same "Reading…" message into the review; the admin is told, the metric counts it."""
    bot = make_bot(ADMIN_CHAT_ID=str(ADMIN_CHAT))
    await bot.start()
    alice = Chat(fake, 3501)
    fake.delay_next("getFile", 3.0)
    await alice.photo(review_photo(), caption="Killed mid scan")
    status = await alice.wait_text("Reading your photo")
    # killed while the download waits (3 s), once the status message id is recorded
    [(_, attempts, progress)] = await fake.wait_for(
        lambda: [r for r in inbox_rows(tmp_path / "bot.db") if r[2]], timeout=STEP_TIMEOUT
    )
    assert (attempts, json.loads(progress)) == (1, {"status_message_id": status["message_id"]})
    bot.kill()
    await bot.start()
    review = await alice.wait_text("Killed mid scan", "200 g flour")
    assert review["message_id"] == status["message_id"]  # the same message, edited
    assert alice.count() == 1, [m.get("text") for m in alice.bot_messages()]
    edits = [
        c.params.get("text")
        for c in fake.calls("editMessageText")
        if c.ok and c.params.get("message_id") == status["message_id"]
    ]
    assert tr("en", "reading_photo_again") in edits
    assert await fake.wait_for(lambda: inbox_rows(tmp_path / "bot.db") == [], timeout=STEP_TIMEOUT)
    assert "update taken over from a stopped process" in bot.log()
    alert = [m for m in fake.sent_messages(ADMIN_CHAT) if "taken over" in str(m.get("text"))]
    assert len(alert) == 1
    assert await metric(bot, "ji_inbox_takeovers") == {"replayed": 1.0, "abandoned": 0.0}
    # the review works after the takeover
    await alice.press(review, "✅ Save")
    await alice.wait_text("Saved")


async def test_an_update_interrupted_twice_is_given_up_with_a_clear_answer(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """A photo that kills the process every time it is read must not crash-loop the bot:
    after MAX_ATTEMPTS starts, the user is asked to send it again and the inbox is cleared."""
    bot = make_bot(ADMIN_CHAT_ID=str(ADMIN_CHAT))
    await bot.start()  # creates and migrates the database
    await bot.stop()
    bob = Chat(fake, 3502, lang="fr")
    poison = fake.make_photo_update(
        bob.user_id, [fake.add_file(review_photo())], language_code="fr"
    )
    with sqlite3.connect(tmp_path / "bot.db") as conn:  # as a process killed twice left it
        conn.execute(
            "INSERT INTO inbox (update_id, payload, holder, lease_until, attempts, progress)"
            " VALUES (?, ?, 'dead:1:x', '2000-01-01 00:00:00.000000', 2, NULL)",
            (poison["update_id"], json.dumps(poison)),
        )
    await bot.start()
    await bob.wait_text(tr("fr", "update_abandoned"))
    assert await fake.wait_for(lambda: inbox_rows(tmp_path / "bot.db") == [], timeout=STEP_TIMEOUT)
    assert not list(fake.calls("getFile")), "the photo was not read a third time"
    assert await fake.wait_for(
        lambda: [m for m in fake.sent_messages(ADMIN_CHAT) if "given up" in str(m.get("text"))]
    )
    assert await metric(bot, "ji_inbox_takeovers") == {"replayed": 0.0, "abandoned": 1.0}
    # the process keeps serving, and the same photo sent again is read
    await bob.photo(review_photo())
    await bob.wait_text("200 g")


async def test_sigterm_past_the_grace_leaves_the_photo_to_the_next_process(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """A deploy stops the machine while a photo waits longer than SHUTDOWN_GRACE_SECONDS:
    the process exits 0 without answering, lets the update go (no lease to wait for), and
    the next process reads the photo at once, in the same "Reading…" message."""
    bot = make_bot(SHUTDOWN_GRACE_SECONDS="1")
    await bot.start()
    carol = Chat(fake, 3503)
    fake.delay_next("getFile", 6.0)
    await carol.photo(review_photo(), caption="Stopped past the grace")
    status = await carol.wait_text("Reading your photo")
    await fake.wait_for(lambda: [r for r in inbox_rows(tmp_path / "bot.db") if r[2]])
    bot.terminate()
    assert await bot.wait_exit(STEP_TIMEOUT) == 0
    [(_, attempts, _)] = inbox_rows(tmp_path / "bot.db")
    assert attempts == 1
    assert "updates left for the next process" in bot.log()
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        [(lease_until,)] = conn.execute("SELECT lease_until FROM inbox").fetchall()
    assert lease_until.startswith("2000-"), "the lease was released, not left to run out"
    await bot.start()
    review = await carol.wait_text("Stopped past the grace", "200 g flour")
    assert review["message_id"] == status["message_id"]
    assert carol.count() == 1
    assert await fake.wait_for(lambda: inbox_rows(tmp_path / "bot.db") == [], timeout=STEP_TIMEOUT)


async def test_a_running_sibling_takes_over_the_photo_of_a_machine_that_died(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """Blue/green: two machines share the database; the one Telegram delivers to is killed
    mid-scan and never comes back. The other one, already running, finds the update once
    the dead one's lease ends (it looks at least every 15 s) and answers in the same
    message."""
    survivor = make_bot()
    await survivor.start()
    doomed = make_bot()
    await doomed.start()  # registered last: Telegram delivers to it
    dave = Chat(fake, 3504)
    fake.delay_next("getFile", 5.0)
    await dave.photo(review_photo(), caption="Machine died")
    status = await dave.wait_text("Reading your photo")
    await fake.wait_for(lambda: [r for r in inbox_rows(tmp_path / "bot.db") if r[2]])
    doomed.kill()
    review = await fake.wait_for(
        lambda: (
            dave.message(status["message_id"])
            if "Machine died" in (dave.message(status["message_id"]).get("text") or "")
            else None
        ),
        timeout=40,
    )
    assert "200 g flour" in review["text"]
    assert dave.count() == 1
    assert "update taken over from a stopped process" in survivor.log()
    assert await fake.wait_for(lambda: inbox_rows(tmp_path / "bot.db") == [], timeout=STEP_TIMEOUT)
