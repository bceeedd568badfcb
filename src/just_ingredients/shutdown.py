"""Graceful shutdown: finish the work in flight, then exit 0 (DESIGN.md §5 "SIGTERM").

Fly sends ``kill_signal`` (SIGTERM here; SIGINT from a terminal) and, ``kill_timeout``
seconds later, SIGKILL. Between the two the process must stop taking new work, let the scans
in flight reach their users, close its pools, and exit 0.

The pieces:

- :class:`InFlight` counts the work being done: ``async with inflight.track("update 42"):``.
  :meth:`InFlight.close` refuses new work (:class:`ShuttingDown`); :meth:`InFlight.drain`
  waits up to a grace period, then cancels what is left and logs one warning naming it.
- :func:`install_signal_handlers` makes SIGTERM/SIGINT set an :class:`asyncio.Event` on the
  running loop (a second signal exits at once, for an impatient Ctrl-C).
- :func:`stopping_middleware` answers the webhook path with 503 once shutdown started (Telegram
  delivers the update again, to the next machine), and :meth:`InFlight.readiness_check` makes
  ``/health/ready`` fail so the proxy stops routing here; ``/health/live`` stays 200.
- :func:`track_update_processor` makes the bot's own PTB update processor track every update
  (:func:`tracking_update_processor` is a ready-made one for apps without their own).

How the bot runtime uses it (``bot/runtime.py``)::

    stop = install_signal_handlers()                 # inside the running loop
    inflight = InFlight()
    readiness.add("accepting", inflight.readiness_check)
    public.middlewares.append(stopping_middleware(inflight, paths={webhook_path}))
    track_update_processor(application.update_processor, inflight)
    async with serve(public, metrics_app, ...):
        await application.initialize(); await application.start()
        (polling: await application.updater.start_polling(...))
        await stop.wait()
        # 1. stop taking updates
        inflight.close()                             # webhook POSTs now get 503
        (polling: await application.updater.stop())
        # 2. let the handlers in flight finish (kill_timeout minus a margin)
        abandoned = await inflight.drain(grace_seconds)
        # 3. stop PTB (it still handles updates queued before step 1), close the pools
        await application.stop(); await application.shutdown()
        ocr_pool.close(); await database.dispose(); await alerts.aclose(2)
    # 4. return normally: exit code 0 (also after SIGTERM)

The grace must be shorter than Fly's ``kill_timeout`` (leave a few seconds for step 3). An
OCR job abandoned at the deadline keeps its worker thread until Tesseract's own timeout
(``OCR_TIMEOUT_SECONDS``); ``OcrPool.close()`` waits for it, so size ``kill_timeout`` to
cover ``grace + OCR_TIMEOUT_SECONDS`` or accept SIGKILL in that rare case.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

#: seconds to wait for cancelled work to unwind after the grace period
CANCEL_WAIT_SECONDS = 2.0


class ShuttingDown(Exception):
    """New work refused: the process is stopping."""


@dataclass
class _Job:
    name: str
    task: asyncio.Task[Any] | None
    started: float


class InFlight:
    """The work being done now, so shutdown can wait for it (one event loop)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._jobs: dict[int, _Job] = {}
        self._ids = itertools.count(1)
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    @property
    def count(self) -> int:
        return len(self._jobs)

    @property
    def names(self) -> list[str]:
        return [job.name for job in self._jobs.values()]

    @property
    def closed(self) -> bool:
        """True once shutdown started (no new work accepted)."""
        return self._closed

    def close(self) -> None:
        """Refuse new work from now on (:meth:`track` raises :class:`ShuttingDown`)."""
        if not self._closed:
            self._closed = True
            log.info("shutting down: no new work accepted", extra={"in_flight": self.count})

    @contextlib.asynccontextmanager
    async def track(self, name: str = "work", *, force: bool = False) -> AsyncIterator[None]:
        """Count the enclosed block as in flight. ``force=True`` tracks even after
        :meth:`close` (work that was already accepted, e.g. an update PTB had queued)."""
        if self._closed and not force:
            raise ShuttingDown(f"not starting {name}: shutting down")
        job_id = next(self._ids)
        self._jobs[job_id] = _Job(name, asyncio.current_task(), self._clock())
        self._idle.clear()
        try:
            yield
        finally:
            del self._jobs[job_id]
            if not self._jobs:
                self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def drain(self, grace_seconds: float, *, cancel: bool = True) -> list[str]:
        """Close, wait up to ``grace_seconds`` for the work in flight; returns the names of
        the work abandoned (and, with ``cancel``, cancelled), after one warning naming them."""
        self.close()
        if self._jobs:
            log.info(
                "waiting for work in flight",
                extra={"in_flight": self.names, "grace_seconds": grace_seconds},
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout=max(0.0, grace_seconds))
        if not self._jobs:
            log.info("no work in flight")
            return []
        jobs = list(self._jobs.values())
        now = self._clock()
        described = [f"{job.name} (running {now - job.started:.1f}s)" for job in jobs]
        log.warning(
            "grace period of %gs over: abandoning %d job(s) in flight: %s",
            grace_seconds,
            len(jobs),
            "; ".join(described),
            extra={"abandoned": [job.name for job in jobs]},
        )
        if cancel:
            tasks = [
                job.task
                for job in jobs
                if job.task is not None
                and job.task is not asyncio.current_task()
                and not job.task.done()
            ]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=CANCEL_WAIT_SECONDS)
        return [job.name for job in jobs]

    async def readiness_check(self) -> tuple[bool, str]:
        """For :class:`~just_ingredients.web.Readiness`: failing once shutdown started."""
        if self._closed:
            return False, f"shutting down ({self.count} in flight)"
        return True, f"{self.count} in flight"


# --------------------------------------------------------------------------- signals


def install_signal_handlers(
    stop: asyncio.Event | None = None,
    *,
    signals: Collection[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
    on_signal: Callable[[signal.Signals], None] | None = None,
    exit_on_second: bool = True,
) -> asyncio.Event:
    """Make SIGTERM/SIGINT set ``stop`` (created if not given) on the running loop.

    A second signal while stopping exits the process at once (code 128 + signal number) when
    ``exit_on_second``; otherwise it is logged and ignored. Call from inside the loop."""
    loop = asyncio.get_running_loop()
    event = stop if stop is not None else asyncio.Event()

    def handle(sig: signal.Signals) -> None:
        if event.is_set():
            if exit_on_second:
                log.warning("second %s: exiting now without waiting", sig.name)
                logging.shutdown()
                os._exit(128 + int(sig))
            log.warning("%s while already stopping: ignored", sig.name)
            return
        log.info("%s received: stopping gracefully", sig.name)
        if on_signal is not None:
            on_signal(sig)
        event.set()

    for sig in signals:
        loop.add_signal_handler(sig, handle, sig)
    return event


def remove_signal_handlers(
    signals: Collection[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> None:
    loop = asyncio.get_running_loop()
    for sig in signals:
        loop.remove_signal_handler(sig)


# --------------------------------------------------------------------------- web and PTB


def stopping_middleware(
    inflight: InFlight, *, paths: Collection[str] | None = None, retry_after: int = 5
) -> Any:
    """aiohttp middleware: once ``inflight`` is closed, POSTs to ``paths`` (all POSTs when
    None) answer 503 with ``Retry-After``; GETs (health probes) pass. Append it to the
    public app's ``middlewares`` before serving."""

    @web.middleware
    async def refuse_when_stopping(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if (
            inflight.closed
            and request.method == "POST"
            and (paths is None or request.path in paths)
        ):
            return web.json_response(
                {"error": "shutting down"},
                status=503,
                headers={"Retry-After": str(retry_after)},
            )
        return await handler(request)

    return refuse_when_stopping


def tracking_update_processor(inflight: InFlight, max_concurrent_updates: int = 16) -> Any:
    """A PTB ``BaseUpdateProcessor`` (for ``ApplicationBuilder().concurrent_updates(...)``)
    that runs every update inside ``inflight.track("update <id>")``. Updates already
    accepted when shutdown starts are still handled (``force=True``)."""
    from telegram.ext import SimpleUpdateProcessor

    class TrackingUpdateProcessor(SimpleUpdateProcessor):
        async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
            update_id = getattr(update, "update_id", None)
            name = f"update {update_id}" if update_id is not None else "update"
            async with inflight.track(name, force=True):
                await coroutine

    return TrackingUpdateProcessor(max_concurrent_updates)


def track_update_processor(processor: Any, inflight: InFlight) -> None:
    """Make an existing PTB update processor (``application.update_processor``) run every
    update inside ``inflight.track("update <id>", force=True)``, keeping what it does (e.g. the
    bot's per-chat ordering). The processor class must allow instance attributes (no
    ``__slots__``); otherwise subclass it, or use :func:`tracking_update_processor`."""
    process = processor.do_process_update

    async def tracked(update: object, coroutine: Awaitable[Any]) -> None:
        update_id = getattr(update, "update_id", None)
        name = f"update {update_id}" if update_id is not None else "update"
        async with inflight.track(name, force=True):
            await process(update, coroutine)

    try:
        processor.do_process_update = tracked
    except AttributeError:
        raise TypeError(
            f"{type(processor).__name__} has __slots__: subclass it to track updates"
        ) from None
