"""Build the python-telegram-bot Application: transport, rate limiting, handlers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import NetworkError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    Defaults,
)

from just_ingredients.bot import handlers
from just_ingredients.bot.inbox import Inbox
from just_ingredients.bot.ocr_queue import OcrQueue
from just_ingredients.config import Settings
from just_ingredients.observability import Metrics, get_metrics
from just_ingredients.vision.engine import OcrPool
from just_ingredients.web import CountingHTTPXRequest

log = logging.getLogger(__name__)

#: updates handled at once (different chats) besides the photos admitted to the OCR queue;
#: one chat's updates are handled in order
MAX_CONCURRENT_UPDATES = 16
#: updates in the process at once, running or waiting for their chat's turn (a backstop)
UPDATES_WAITING = 2000
#: extra attempts after a Telegram 5xx (429s are retried by AIORateLimiter)
SERVER_ERROR_RETRIES = 2


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, sequential within a chat (a second photo waits for the
    first one's review; two quick button presses apply one after the other). Also times
    each update in `ji_update_seconds`.

    An update takes one of the ``running`` slots only once it is its chat's turn. PTB's own
    semaphore (taken before `do_process_update`) is only a backstop of UPDATES_WAITING: were
    it the bound, a user's photos waiting behind each other would fill it and a /start from
    someone else would wait behind them."""

    def __init__(self, running: int, metrics: Metrics) -> None:
        super().__init__(max(running, UPDATES_WAITING))
        #: chat id → (lock, number of updates of that chat running or waiting)
        self._chats: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        self._slots = asyncio.BoundedSemaphore(running)
        self._metrics = metrics
        #: webhook mode: the inbox the handled updates are cleared from (`bot/inbox.py`)
        self.inbox: Inbox | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = time.monotonic()
        try:
            await self._in_turn(update, coroutine)
        finally:
            self._metrics.update_seconds.observe(time.monotonic() - started)
        # handled, or its error reported to the user (PTB's error handler ran inside the
        # coroutine); not reached when cancelled at shutdown: the inbox keeps it
        if self.inbox is not None and isinstance(update, Update):
            await self.inbox.done(update.update_id)

    async def _in_turn(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._slots:
                await coroutine
            return
        lock, users = self._chats.setdefault(chat.id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._chats[chat.id]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (flood limits, 429 with retry_after) that also retries a Bot API call
    answered with a 5xx (PTB raises a bare NetworkError for those) a couple of times."""

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # type: ignore[no-untyped-def]
        for attempt in range(SERVER_ERROR_RETRIES + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except NetworkError as error:
                if type(error) is not NetworkError or attempt == SERVER_ERROR_RETRIES:
                    raise  # BadRequest, TimedOut, Forbidden…: not a server fault
                log.info("Telegram server error, retrying", extra={"method": endpoint})
                await asyncio.sleep(0.3 * (attempt + 1))
        raise AssertionError("unreachable")


def update_slots(settings: Settings) -> int:
    """PTB's bound on updates in flight. Photos hold their slot while they wait for an
    engine, so the bound leaves MAX_CONCURRENT_UPDATES slots beyond the most photos the OCR
    queue admits (OCR_WORKERS reading + OCR_QUEUE_LIMIT waiting): a /start or a button press
    during a burst of photos is answered at once instead of waiting behind them."""
    return MAX_CONCURRENT_UPDATES + settings.ocr_workers + settings.ocr_queue_limit


def build_application(
    settings: Settings,
    db: Any,
    pool: OcrPool | None,
    *,
    webhook: bool,
    metrics: Metrics | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to run the bot")
    metrics = metrics or get_metrics()
    api = settings.telegram_api_url.rstrip("/")
    slots = update_slots(settings)
    request = CountingHTTPXRequest(
        connection_pool_size=slots + 4,
        connect_timeout=5.0,
        read_timeout=15.0,
        write_timeout=30.0,  # uploads (crops, exports)
        pool_timeout=5.0,
        media_write_timeout=30.0,
        metrics=metrics,
    )
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .request(request)
        .rate_limiter(RetryingRateLimiter(max_retries=3))
        .concurrent_updates(ChatOrderedUpdateProcessor(slots, metrics))
        .defaults(Defaults(parse_mode=ParseMode.HTML))
    )
    if webhook:
        builder = builder.updater(None)
    else:
        builder = builder.get_updates_request(
            CountingHTTPXRequest(
                connection_pool_size=1,
                connect_timeout=5.0,
                read_timeout=40.0,  # long polling
                write_timeout=5.0,
                pool_timeout=5.0,
                metrics=metrics,
            )
        )
    application = builder.build()
    application.bot_data["deps"] = handlers.Deps(
        db=db,
        pool=pool,
        settings=settings,
        metrics=metrics,
        ocr_queue=OcrQueue(settings.ocr_workers, settings.ocr_queue_limit),
    )
    handlers.register(application)
    return application
