"""The OCR admission queue: engines first, then a bounded line in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from telegram import Chat, Message, Update

from just_ingredients.bot.app import (
    MAX_CONCURRENT_UPDATES,
    ChatOrderedUpdateProcessor,
    update_slots,
)
from just_ingredients.bot.ocr_queue import OcrBusy, OcrQueue
from just_ingredients.config import Settings
from just_ingredients.observability import get_metrics


async def test_photos_wait_in_arrival_order_and_are_told_their_place() -> None:
    queue = OcrQueue(workers=1, limit=2)
    first, second, third = queue.reserve(), queue.reserve(), queue.reserve()
    assert await first.wait_turn() is False  # a free engine: no wait, no notice
    places: list[int] = []

    async def told(position: int) -> None:
        places.append(position)

    waiting = [asyncio.create_task(s.wait_turn(told)) for s in (second, third)]
    await asyncio.sleep(0)
    assert places == [1, 2]
    assert (queue.reading, queue.waiting) == (1, 2)
    first.release()
    await asyncio.sleep(0)
    assert waiting[0].done()
    assert not waiting[1].done()
    second.release()
    assert await waiting[1] is True
    third.release()
    assert (queue.reading, queue.waiting) == (0, 0)


async def test_beyond_the_limit_a_photo_is_refused_and_a_released_seat_is_reusable() -> None:
    queue = OcrQueue(workers=1, limit=1)
    seats = [queue.reserve(), queue.reserve()]
    with pytest.raises(OcrBusy):
        queue.reserve()
    seats[0].release()
    seats[0].release()  # twice is harmless
    queue.reserve()
    with pytest.raises(OcrBusy):
        queue.reserve()


async def test_a_photo_cancelled_while_waiting_leaves_the_line() -> None:
    queue = OcrQueue(workers=1, limit=2)
    reading, gone, next_ = queue.reserve(), queue.reserve(), queue.reserve()
    await reading.wait_turn()
    cancelled = asyncio.create_task(gone.wait_turn())
    later = asyncio.create_task(next_.wait_turn())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    gone.release()
    reading.release()
    assert await later is True
    assert (queue.reading, queue.waiting) == (1, 0)


def test_ptb_keeps_update_slots_free_beyond_the_admitted_photos() -> None:
    settings = Settings(ocr_workers=2, ocr_queue_limit=20)
    assert update_slots(settings) == MAX_CONCURRENT_UPDATES + 22


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "private")
    message = Message(update_id, datetime.now(UTC), chat, text="x")
    return Update(update_id, message=message)


async def test_updates_waiting_for_their_chat_do_not_take_the_slots_of_other_chats() -> None:
    processor = ChatOrderedUpdateProcessor(2, get_metrics())
    release = asyncio.Event()
    done: list[int] = []

    async def handle(update_id: int, wait: bool) -> None:
        if wait:
            await release.wait()
        done.append(update_id)

    # one user's five photos: the first runs, the others wait for their turn in the chat
    busy = [
        asyncio.create_task(processor.process_update(_update(i, 1), handle(i, True)))
        for i in range(1, 6)
    ]
    await asyncio.sleep(0.01)
    other = processor.process_update(_update(10, 2), handle(10, False))
    await asyncio.wait_for(other, timeout=1.0)  # answered while the photos still wait
    assert done == [10]
    release.set()
    await asyncio.gather(*busy)
    assert done == [10, 1, 2, 3, 4, 5]


async def test_a_waiting_photo_is_told_each_step_up_the_line() -> None:
    queue = OcrQueue(workers=1, limit=3)
    reading = queue.reserve()
    await reading.wait_turn()
    seats = [queue.reserve() for _ in range(3)]
    told: dict[int, list[int]] = {0: [], 1: [], 2: []}

    def teller(n: int) -> Callable[[int], Awaitable[None]]:
        async def tell(position: int) -> None:
            told[n].append(position)

        return tell

    waits = [
        asyncio.create_task(s.wait_turn(teller(n), on_moved=teller(n), min_gap=0.0, budget=1e6))
        for n, s in enumerate(seats)
    ]
    await asyncio.sleep(0.01)
    assert told == {0: [1], 1: [2], 2: [3]}
    assert [s.position for s in seats] == [1, 2, 3]
    reading.release()  # seat 0 reads; the others move up
    await asyncio.sleep(0.01)
    assert told == {0: [1], 1: [2, 1], 2: [3, 2]}
    assert seats[0].position is None
    seats[1].release()  # seat 1 gives up (cancelled) while waiting: seat 2 moves up again
    await asyncio.sleep(0.01)
    assert told[2] == [3, 2, 1]
    assert waits[0].done()
    seats[0].release()
    assert await waits[2] is True
    waits[1].cancel()
    assert told == {0: [1], 1: [2, 1], 2: [3, 2, 1]}  # nothing after the turn came


async def test_after_the_first_step_moves_are_told_at_most_once_per_gap() -> None:
    queue = OcrQueue(workers=1, limit=3)
    readers = [queue.reserve()]
    await readers[0].wait_turn()
    ahead = [queue.reserve(), queue.reserve()]
    ahead_waits = [asyncio.create_task(s.wait_turn()) for s in ahead]
    last = queue.reserve()
    told: list[int] = []

    async def tell(position: int) -> None:
        told.append(position)

    waiting = asyncio.create_task(last.wait_turn(tell, on_moved=tell, min_gap=0.3, budget=1e6))
    await asyncio.sleep(0.01)
    assert told == [3]
    readers[0].release()  # 3 → 2: the first step is shown at once
    await asyncio.sleep(0.01)
    assert told == [3, 2]
    ahead[0].release()  # 2 → 1, within the gap
    await asyncio.sleep(0.01)
    assert told == [3, 2]  # not yet: at most one notice per gap
    await asyncio.sleep(0.4)
    assert told == [3, 2, 1]
    ahead[1].release()
    assert await waiting is True
    await asyncio.gather(*ahead_waits)
    last.release()


async def test_a_long_line_stretches_the_gap_so_its_notices_stay_within_the_budget() -> None:
    queue = OcrQueue(workers=1, limit=10)
    reading = queue.reserve()
    await reading.wait_turn()
    seats = [queue.reserve() for _ in range(8)]
    told: list[tuple[int, int]] = []

    def teller(n: int) -> Callable[[int], Awaitable[None]]:
        async def tell(position: int) -> None:
            told.append((n, position))

        return tell

    # 8 waiting, 40 edits a second for all of them: each notice at most every 0.2 s
    waits = [
        asyncio.create_task(s.wait_turn(on_moved=teller(n), min_gap=0.0, budget=40.0))
        for n, s in enumerate(seats)
    ]
    await asyncio.sleep(0.01)
    reading.release()  # everyone moves up one place; a long line: nothing shown at once
    await asyncio.sleep(0.05)
    assert told == []
    await asyncio.sleep(0.25)
    assert sorted(told) == [(n, n) for n in range(1, 8)]  # one edit each, within the budget
    for s in seats:
        s.release()
    await asyncio.gather(*waits)
