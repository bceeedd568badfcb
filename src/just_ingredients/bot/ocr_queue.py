"""Admission to the OCR engines for photos sent to the bot (issue #8).

At most ``workers`` photos are read at a time (one per engine of the `OcrPool`); the next
``limit`` wait in arrival order and their senders are told their place in the line; beyond
that a photo is refused straight away (the user is asked to send it again in a minute) so
that a burst never piles up unbounded work, update slots or OCR timeouts.

    seat = queue.reserve()            # OcrBusy when workers + limit photos are already in
    try:
        ...download...
        await seat.wait_turn(on_queued, on_moved=on_moved)  # told the place, then each move
        ...read...
    finally:
        seat.release()

The queue lives in the process (it only orders work in flight; nothing of a conversation is
kept here): a restart simply empties it. In webhook mode a photo that was waiting is still
in the database inbox (`inbox.py`) and is read by the next process.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

#: a waiting photo's notice is edited at most this often (Telegram allows about one message
#: per second in a chat, and a long line would otherwise edit every notice at each step)
NOTICE_MIN_GAP_SECONDS = 2.0
#: edits of waiting photos' notices per second, all notices together (at most)
NOTICE_EDITS_PER_SECOND = 4.0


class OcrBusy(Exception):
    """Every engine is busy and the waiting line is full."""


class Seat:
    """One photo's place: counted from `reserve` until `release`."""

    def __init__(self, queue: OcrQueue) -> None:
        self._queue = queue
        self._turn: asyncio.Future[None] | None = None
        self.reading = False
        self.released = False
        #: set whenever the line moves while this photo waits
        self.moved = asyncio.Event()

    @property
    def position(self) -> int | None:
        """Place in the line (1 = next), None when not waiting."""
        waiting = self._queue._waiting
        return waiting.index(self) + 1 if self in waiting else None

    async def wait_turn(
        self,
        on_queued: Callable[[int], Awaitable[None]] | None = None,
        *,
        on_moved: Callable[[int], Awaitable[None]] | None = None,
        min_gap: float = NOTICE_MIN_GAP_SECONDS,
        budget: float = NOTICE_EDITS_PER_SECOND,
    ) -> bool:
        """Wait until an engine is free for this photo. Calls ``on_queued(position)`` (1 =
        next) when it has to wait, then ``on_moved(position)`` when the photo moves up: the
        first step at once, later ones at most once per ``min_gap`` seconds (the latest
        place); ``budget`` edits a second for all the line's notices together stretch the gap
        when the line is long. Returns whether it waited."""
        q = self._queue
        if self.reading:
            return False
        if q._reading < q.workers and not q._waiting:
            q._reading += 1
            self.reading = True
            return False
        self._turn = asyncio.get_running_loop().create_future()
        q._waiting.append(self)
        if on_queued is not None:
            await on_queued(len(q._waiting))
        follower = None
        if on_moved is not None and not self._turn.done():
            follower = asyncio.create_task(self._follow(on_moved, min_gap, budget))
        try:
            await self._turn  # cancelled: `release` takes it out of the line
        finally:
            if follower is not None:
                follower.cancel()
                await asyncio.gather(follower, return_exceptions=True)
        return True

    async def _follow(
        self, on_moved: Callable[[int], Awaitable[None]], min_gap: float, budget: float
    ) -> None:
        loop = asyncio.get_running_loop()
        shown = self.position
        # a short line shows its first step at once; a long one spreads its edits out
        last = loop.time() - (min_gap if self._gap(min_gap, budget) <= min_gap else 0.0)
        while True:
            self.moved.clear()
            position = self.position
            if position is None:
                return
            if position == shown:
                await self.moved.wait()
                continue
            await asyncio.sleep(max(0.0, last + self._gap(min_gap, budget) - loop.time()))
            position = self.position
            if position is None:
                return
            await on_moved(position)
            shown, last = position, loop.time()

    def _gap(self, min_gap: float, budget: float) -> float:
        """Seconds between two edits of this notice: the waiting photos' notices share a
        budget of edits a second, so they never crowd out the answers (Telegram allows a bot
        about 30 messages a second in all)."""
        return max(min_gap, len(self._queue._waiting) / budget)

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        q = self._queue
        q._seats -= 1
        if self.reading:
            self.reading = False
            q._reading -= 1
        elif self in q._waiting:
            q._waiting.remove(self)
        q._admit_next()
        q._moved()


class OcrQueue:
    """``workers`` photos read at once, up to ``limit`` more waiting, the rest refused."""

    def __init__(self, workers: int, limit: int) -> None:
        if workers < 1 or limit < 0:
            raise ValueError("workers must be >= 1 and limit >= 0")
        self.workers = workers
        self.limit = limit
        self._seats = 0  # reserved: downloading, waiting or being read
        self._reading = 0
        self._waiting: deque[Seat] = deque()

    @property
    def capacity(self) -> int:
        return self.workers + self.limit

    @property
    def reading(self) -> int:
        return self._reading

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def reserve(self) -> Seat:
        """A seat for one photo, or `OcrBusy` when ``workers + limit`` are already taken."""
        if self._seats >= self.capacity:
            raise OcrBusy
        self._seats += 1
        return Seat(self)

    def _moved(self) -> None:
        for seat in self._waiting:
            seat.moved.set()

    def _admit_next(self) -> None:
        while self._waiting and self._reading < self.workers:
            seat = self._waiting.popleft()
            turn = seat._turn
            if turn is None or turn.done():  # cancelled while waiting
                continue
            self._reading += 1
            seat.reading = True
            turn.set_result(None)
