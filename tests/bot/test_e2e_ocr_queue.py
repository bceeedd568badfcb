"""Issue #8 end to end: when every OCR engine is busy a photo is queued with a notice, the
review replaces it, beyond the limit the photo is refused, and other updates still flow."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.bot.conftest import BotProcess, Chat, render
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.slow  # a real bot process (a few seconds)

QUEUED = "yours is number"
BUSY = "send yours again in a minute"


def photo_of(n: int) -> bytes:
    """A different clean list per user (the OCR cache is by image hash), long enough that
    reading it takes a moment."""
    return render(_lines(n) * 3)


async def test_a_burst_of_photos_is_queued_refused_beyond_the_limit_and_start_still_answers(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    await make_bot(OCR_WORKERS="1", OCR_QUEUE_LIMIT="2").start()
    users = [Chat(fake, 2001 + i) for i in range(4)]
    # every download waits, so all four photos are in flight at once
    fake.delay_next("getFile", 1.5, count=4)
    for n, user in enumerate(users):
        await user.photo(photo_of(n), caption=f"Burst {n}")

    def refused() -> list[Chat]:
        return [u for u in users if any(BUSY in (m.get("text") or "") for m in u.bot_messages())]

    def queue_notices() -> list[str]:
        return [
            e["text"] for u in users for e in fake.edits(u.chat_id) if QUEUED in e.get("text", "")
        ]

    await fake.wait_for(lambda: len(refused()) == 1 and len(queue_notices()) == 2, timeout=30)
    assert sorted(n[n.index(QUEUED) :][:17] for n in queue_notices()) == [
        "yours is number 1",
        "yours is number 2",
    ]
    # a /start from someone else during the burst is answered before the photos are read
    bob = Chat(fake, 2999)
    await bob.send("/start")
    await bob.wait_text("Hello")
    reviews_so_far = [u for u in users if u.bot_messages() and "flour" in str(u.bot_messages())]
    assert len(reviews_so_far) < 3, "/start waited behind the queued photos"

    admitted = [u for u in users if u not in refused()]
    for user in admitted:
        n = users.index(user)
        review = await user.wait_text(f"Burst {n}", "flour")
        # one message: "Reading…" edited into the queue notice, then into the review
        assert user.count() == 1
        assert user.bot_messages()[0]["message_id"] == review["message_id"]
    [loser] = refused()
    assert loser.count() == 1  # only the "too busy" answer: no review, no draft
    assert all("Burst" not in (m.get("text") or "") for m in loser.bot_messages())
    # nothing was lost: sent again once the burst is over, the photo is read
    n = users.index(loser)
    fake.delay_next("getFile", 0.0)
    await loser.photo(photo_of(n), caption=f"Again {n}")
    await loser.wait_text(f"Again {n}", "flour", after=1)


async def test_a_waiting_photo_sees_its_place_count_down(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    """Four photos, one engine: the last in line is told 3, then 2 as soon as the first
    photo is read (later steps at most once per 2 s), then gets its review in the same
    message."""
    await make_bot(OCR_WORKERS="1", OCR_QUEUE_LIMIT="3").start()
    users = [Chat(fake, 2101 + i) for i in range(4)]
    fake.delay_next("getFile", 1.0, count=4)  # all four in flight before the first is read
    for n, user in enumerate(users):
        await user.photo(photo_of(n), caption=f"Line {n}")
    for n, user in enumerate(users):
        await user.wait_text(f"Line {n}", "flour")
        assert user.count() == 1

    def places(user: Chat) -> list[int]:
        return [
            int(e["text"].split(QUEUED)[1].split()[0])
            for e in fake.edits(user.chat_id)
            if QUEUED in e.get("text", "")
        ]

    seen = {user.user_id: places(user) for user in users}
    assert sorted(p[0] for p in seen.values() if p) == [1, 2, 3], seen
    assert [3, 2] in [p[:2] for p in seen.values()], seen  # the last one moved up at once
    for p in seen.values():
        assert p == sorted(p, reverse=True), seen
        assert len(set(p)) == len(p), seen


def _lines(n: int) -> list[str]:
    return [f"{n + 100} g flour", "3 eggs", "1 pinch of salt", "250 ml milk", "2 tbsp sugar"]
