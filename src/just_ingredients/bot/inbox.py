"""The webhook inbox: an update Telegram got a 200 for is never lost to a crash (issue #8).

Telegram forgets an update once the webhook answers 200. Before that answer, the update is
written to the `inbox` table together with its `processed_updates` claim (one transaction;
a duplicate delivery is dropped there). It is deleted once handled — successfully or with
an error the user was told about. While handling, this process holds a *lease* on it and
renews it every few seconds; if the process dies (kill -9, an OOM kill mid-scan), the lease
runs out and the next process that looks — the restarted one, or another machine — takes
the update over and handles it again. A photo's handler records the "Reading…" message it
sent (`progress`), so a second reading edits that message instead of leaving it behind.

An update whose handling was started ``MAX_ATTEMPTS`` times without finishing (a photo that
kills the process each time) is given up: the user is asked to send it again.

If the database cannot record an update at receipt, the update is handled in memory as
before (the gate then reports the database error to the user) rather than refused.

Polling (local use) does not go through the inbox: `getUpdates` acknowledges by offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from just_ingredients import service
from just_ingredients.storage import InboxEntry
from just_ingredients.storage.tables import utcnow

log = logging.getLogger(__name__)

#: how long an update stays with a process that stopped renewing (a dead one)
LEASE = timedelta(seconds=10)
RENEW_EVERY_SECONDS = 3.0
#: how often an idle process looks for updates abandoned by others, at most
SWEEP_AT_MOST_EVERY_SECONDS = 15.0
#: handling of one update is started at most this many times
MAX_ATTEMPTS = 2


def default_holder() -> str:
    """A name for this process: host, pid and a random part (never reused)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


class Inbox:
    """This process's side of the `inbox` table (one event loop)."""

    def __init__(
        self,
        db: Any,
        *,
        holder: str | None = None,
        lease: timedelta = LEASE,
        renew_every: float = RENEW_EVERY_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.db = db
        self.holder = holder or default_holder()
        self.lease = lease
        self.renew_every = renew_every
        self.max_attempts = max_attempts
        #: update ids this process holds a lease on
        self.held: set[int] = set()
        #: updates taken over from a process that died: what it had already done
        self.replays: dict[int, InboxEntry] = {}
        #: handled, but deleting the row failed (database down): retried each round
        self._unfinished: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # --- receipt and handling -------------------------------------------------------------

    async def receive(self, payload: dict[str, Any]) -> bool:
        """Record a webhook update before Telegram gets its 200. False for a duplicate.
        Raises the database's error when it cannot record it."""
        update_id = int(payload["update_id"])
        first = await service.receive_update(self.db, update_id, payload, self.holder, self.lease)
        if first:
            self.held.add(update_id)
            if len(self.held) == 1:
                self._wake.set()  # the background task starts renewing
        return first

    def holds(self, update_id: int) -> bool:
        return update_id in self.held

    def replay(self, update_id: int) -> InboxEntry | None:
        """The inbox entry when this update is being handled again after a crash."""
        return self.replays.get(update_id)

    async def progress(self, update_id: int, **values: Any) -> None:
        """Remember what handling has shown the user so far (best effort)."""
        if update_id not in self.held:
            return
        try:
            await service.note_update_progress(self.db, update_id, **values)
        except Exception as error:
            log.warning(
                "could not record progress: %s",
                type(error).__name__,
                extra={"update_id": update_id},
            )

    async def done(self, update_id: int) -> None:
        """The update was handled (or its failure reported): forget it."""
        if update_id not in self.held:
            return
        self.replays.pop(update_id, None)
        try:
            await service.finish_update(self.db, update_id)
        except Exception as error:
            log.warning(
                "could not clear a handled update, will retry: %s",
                type(error).__name__,
                extra={"update_id": update_id},
            )
            self._unfinished.add(update_id)
            return
        self.held.discard(update_id)

    # --- background: renew leases, take over abandoned updates ---------------------------

    def start(
        self,
        replay: Callable[[InboxEntry], Awaitable[None]],
        abandon: Callable[[InboxEntry], Awaitable[None]],
    ) -> None:
        self._task = asyncio.create_task(self._run(replay, abandon), name="inbox")

    async def stop(self) -> None:
        """Stop renewing; updates still held (not finished in the grace period) are let go
        at once, so the next process takes them without waiting for the lease to end."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        left = sorted(self.held - self._unfinished)
        if not left:
            return
        try:
            released = await service.release_update_leases(self.db, self.holder, left)
            log.warning("updates left for the next process", extra={"updates": released})
        except Exception as error:
            log.warning("could not release updates: %s", type(error).__name__)

    async def sweep(
        self,
        replay: Callable[[InboxEntry], Awaitable[None]],
        abandon: Callable[[InboxEntry], Awaitable[None]],
    ) -> float:
        """Take over the updates whose lease ran out; seconds until the next one does."""
        taken, next_end = await service.take_stale_updates(self.db, self.holder, self.lease)
        for entry in taken:
            self.held.add(entry.update_id)
            if entry.attempts > self.max_attempts:
                log.warning(
                    "update given up after %d attempts",
                    entry.attempts - 1,
                    extra={"update_id": entry.update_id},
                )
                try:
                    await abandon(entry)
                finally:
                    await self.done(entry.update_id)
                continue
            log.warning(
                "update taken over from a stopped process",
                extra={"update_id": entry.update_id, "attempt": entry.attempts},
            )
            self.replays[entry.update_id] = entry
            await replay(entry)
        if next_end is None:
            return SWEEP_AT_MOST_EVERY_SECONDS
        wait = (next_end - utcnow()).total_seconds() + 0.2
        return min(max(wait, 0.5), SWEEP_AT_MOST_EVERY_SECONDS)

    async def _renew(self) -> None:
        for update_id in list(self._unfinished):
            try:
                await service.finish_update(self.db, update_id)
            except Exception:
                continue
            self._unfinished.discard(update_id)
            self.held.discard(update_id)
        if self.held - self._unfinished:
            await service.renew_update_leases(self.db, self.holder, self.lease)

    async def _run(
        self,
        replay: Callable[[InboxEntry], Awaitable[None]],
        abandon: Callable[[InboxEntry], Awaitable[None]],
    ) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        next_renew: float | None = None
        failing = False
        while True:
            now = loop.time()
            if not self.held:
                next_renew = None
            elif next_renew is None:  # the first update held since the inbox was empty
                next_renew = now + self.renew_every
            try:
                if next_renew is not None and now >= next_renew:
                    next_renew = now + self.renew_every
                    await self._renew()
                if now >= next_sweep:
                    next_sweep = loop.time() + await self.sweep(replay, abandon)
                if failing:
                    log.info("inbox reachable again")
                failing = False
            except Exception as error:  # the database may be down: try again next round
                if not failing:
                    log.warning("inbox round failed: %s", type(error).__name__)
                failing = True
                next_sweep = min(next_sweep, loop.time() + self.renew_every)
            wait = next_sweep - loop.time()
            if self.held:
                wait = min(wait, (next_renew or loop.time()) - loop.time())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(wait, 0.05))
