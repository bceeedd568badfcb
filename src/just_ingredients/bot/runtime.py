"""Run the bot: one asyncio loop holding PTB, our aiohttp apps (health, webhook, metrics),
the database and the OCR pool.

Start (in parallel where possible): database reachable and schema at head (`db.prepare()`;
PostgreSQL behind head is refused with a message naming `just-ingredients migrate`), `getMe`,
the OCR pool loaded in a thread; then the web servers, `setMyCommands` (default English and
French) and long polling or `setWebhook` (with the secret). `/health/ready` is 200 only once
all of that is done and while the database answers, the OCR circuit is closed and the
process is not stopping. Admin alerts: start-up, circuit breaker, database, handler errors.

Stop (SIGTERM/SIGINT, `shutdown.py`): webhook POSTs get 503 and readiness fails, polling
stops, the updates in flight get up to `SHUTDOWN_GRACE_SECONDS` (default 35 s) to finish
(a scan in flight still reaches its user), then PTB, the OCR pool and the database are
closed and the process exits 0. The webhook is never deleted on shutdown: the next instance
(blue/green, scale to zero) keeps receiving the updates.

Webhook mode keeps every accepted update in the database inbox until it is handled
(`inbox.py`): a process killed mid-scan loses nothing; the next one takes the update over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeDefault, Update

from just_ingredients import service
from just_ingredients.alerts import AdminAlerts, Release, alerting_check, watch_circuit
from just_ingredients.bot.app import build_application
from just_ingredients.bot.handlers import COMMANDS, tell_abandoned
from just_ingredients.bot.inbox import Inbox
from just_ingredients.config import Settings
from just_ingredients.i18n import translate
from just_ingredients.observability import get_metrics
from just_ingredients.shutdown import (
    InFlight,
    install_signal_handlers,
    stopping_middleware,
    track_update_processor,
)
from just_ingredients.storage import Database, DatabaseUnavailable, InboxEntry
from just_ingredients.vision.engine import OcrPool
from just_ingredients.web import (
    DATABASE_CHECK_CACHE_SECONDS,
    Readiness,
    create_metrics_app,
    create_public_app,
    serve,
)

log = logging.getLogger(__name__)

Mode = Literal["polling", "webhook"]
DEFAULT_WEBHOOK_PATH = "/telegram"
#: processed update ids and button keys older than this are forgotten (Telegram redelivers
#: for 24 h; a review's buttons keep working for a month)
FORGET_STATE_AFTER = timedelta(days=30)
FORGET_STATE_EVERY_SECONDS = 6 * 3600.0
#: waits between start-up attempts to reach the database (the last one repeats)
DATABASE_RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0)


class StartupError(RuntimeError):
    """The bot cannot start (configuration, database schema); the message says why."""


def webhook_path(url: str) -> str:
    path = urlsplit(url).path
    return path if path and path != "/" else DEFAULT_WEBHOOK_PATH


async def register_commands(bot: Any) -> None:
    """`setMyCommands` for everyone (English) and for French-speaking clients."""
    for lang, code in (("en", None), ("fr", "fr")):
        commands = [BotCommand(c, translate(lang, f"cmd_{c}")) for c in COMMANDS]  # type: ignore[arg-type]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)


async def forget_old_state_periodically(
    db: Database, every: float = FORGET_STATE_EVERY_SECONDS, first_after: float = 60.0
) -> None:
    """Keep `processed_updates` and the button keys from growing forever."""
    await asyncio.sleep(first_after)
    while True:
        try:
            updates, keys = await service.forget_old_state(db, FORGET_STATE_AFTER)
            log.info("old state forgotten", extra={"updates": updates, "callback_keys": keys})
        except Exception as error:  # the database may be down: try again next round
            log.warning("could not forget old state: %s", type(error).__name__)
        await asyncio.sleep(every)


async def wait_for_database(db: Database, stop: asyncio.Event) -> bool:
    """`db.prepare()` until it works: True once ready, False if asked to stop first.

    An unreachable server is waited for while the health server runs (live answers, ready
    names the database), so a database that starts after the bot — or restarts — needs no
    crash loop. A schema behind head or a bad URL is raised: waiting would not fix them.
    """
    attempt = 0
    while True:
        try:
            await db.prepare()
        except DatabaseUnavailable as error:
            if attempt == 0:
                log.warning("database unreachable at start, waiting for it: %s", error)
            delay = DATABASE_RETRY_SECONDS[min(attempt, len(DATABASE_RETRY_SECONDS) - 1)]
            attempt += 1
        else:
            if attempt:
                log.info("database reachable", extra={"attempts": attempt + 1})
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
            return False


async def run_bot(settings: Settings, mode: Mode) -> None:
    if settings.telegram_bot_token is None:
        raise StartupError("TELEGRAM_BOT_TOKEN is not set")
    if mode == "webhook" and not settings.webhook_url:
        raise StartupError("webhook mode needs WEBHOOK_URL")
    stop = install_signal_handlers()  # a SIGTERM during start-up stops right after it
    metrics = get_metrics()
    db = Database.from_url(settings.database_url.get_secret_value())
    application = build_application(settings, db, None, webhook=mode == "webhook", metrics=metrics)
    secrets_ = [
        s.get_secret_value() for s in (settings.telegram_bot_token, settings.webhook_secret) if s
    ]
    alerts = AdminAlerts(
        application.bot.send_message,
        settings.admin_chat_id,
        secrets=secrets_,
        release=Release.from_settings(settings),
    )
    application.bot_data["alerts"] = alerts
    # start-up work in parallel: the OCR engine loads in a thread while the bot introduces
    # itself to Telegram (getMe); the database is waited for once the health server runs
    loading = asyncio.create_task(
        asyncio.to_thread(
            OcrPool,
            size=settings.ocr_workers,
            languages=settings.ocr_languages,
            timeout_seconds=settings.ocr_timeout_seconds,
            max_image_bytes=settings.max_image_bytes,
        )
    )
    pool: OcrPool | None = None
    try:
        await application.initialize()
        pool = await loading
        application.bot_data["deps"].pool = pool
        watch_circuit(pool.breaker, alerts=alerts, metrics=metrics)
        await _serve(settings, mode, application, db, pool, metrics, alerts, stop)
    finally:
        if pool is None and not loading.done():
            loading.cancel()
        with contextlib.suppress(BaseException):
            pool = pool or (loading.result() if loading.done() else None)
        if pool is not None:
            pool.close()
        if application.running:
            await application.stop()
        with contextlib.suppress(Exception):
            await application.shutdown()  # never deleteWebhook here
        await alerts.aclose(2.0)
        await db.dispose()


async def _serve(
    settings: Settings,
    mode: Mode,
    application: Any,
    db: Database,
    pool: OcrPool,
    metrics: Any,
    alerts: AdminAlerts,
    stop: asyncio.Event,
) -> None:
    started = asyncio.Event()
    inflight = InFlight()
    track_update_processor(application.update_processor, inflight)

    async def database_ok() -> tuple[bool, str]:
        await db.check_connection()
        return True, "reachable"

    async def ocr_ok() -> tuple[bool, str]:
        return pool.ready, "loaded" if pool.ready else "closed or circuit open"

    async def bot_ok() -> tuple[bool, str]:
        return started.is_set(), "started" if started.is_set() else "starting"

    readiness = Readiness()
    readiness.add(
        "database", alerting_check(database_ok, alerts), cache_seconds=DATABASE_CHECK_CACHE_SECONDS
    )
    readiness.add("ocr", ocr_ok)
    readiness.add("bot", bot_ok)
    readiness.add("accepting", inflight.readiness_check)
    secret = ""
    webhook = None
    deps = application.bot_data["deps"]
    inbox: Inbox | None = None
    if mode == "webhook":
        assert settings.webhook_url is not None
        if settings.webhook_secret is not None:
            secret = settings.webhook_secret.get_secret_value()
        else:
            secret = secrets.token_urlsafe(32)
            log.warning("WEBHOOK_SECRET is not set: using a random secret for this process")

        inbox = Inbox(db)
        deps.inbox = inbox
        application.update_processor.inbox = inbox

        async def on_update(data: dict[str, Any]) -> None:
            try:
                update = Update.de_json(data, application.bot)
            except Exception as error:  # answering 500 would make Telegram retry it forever
                log.warning(
                    "unreadable update dropped: %s",
                    type(error).__name__,
                    extra={"update_id": data.get("update_id")},
                )
                return
            try:
                if not await inbox.receive(data):
                    log.info("duplicate update ignored", extra={"update_id": update.update_id})
                    return
            except Exception as error:
                if not service.is_database_error(error):
                    raise
                # not recorded: handled in memory; the gate tells the user about the database
                log.warning(
                    "update not recorded in the inbox: %s",
                    type(error).__name__,
                    extra={"update_id": update.update_id},
                )
            await application.update_queue.put(update)

        webhook = (webhook_path(settings.webhook_url), on_update, secret)
    public = create_public_app(readiness, webhook=webhook)
    if webhook is not None:
        # once stopping, a webhook POST gets 503: Telegram delivers it again, elsewhere
        public.middlewares.append(stopping_middleware(inflight, paths={webhook[0]}))
    housekeeping: asyncio.Task[None] | None = None
    async with serve(
        public,
        create_metrics_app(metrics),
        health_port=settings.health_port,
        metrics_port=settings.metrics_port,
    ):
        try:
            # SchemaOutOfDate (raised) names `just-ingredients migrate`
            if not await wait_for_database(db, stop):
                return
            await application.start()
            if mode == "webhook":
                assert settings.webhook_url is not None
                await asyncio.gather(
                    register_commands(application.bot),
                    application.bot.set_webhook(
                        settings.webhook_url,
                        secret_token=secret,
                        allowed_updates=Update.ALL_TYPES,
                        max_connections=40,
                    ),
                )
            else:
                assert application.updater is not None
                await register_commands(application.bot)
                await application.updater.start_polling(
                    allowed_updates=Update.ALL_TYPES, timeout=30, drop_pending_updates=False
                )
            if inbox is not None:  # after start: taken-over updates go through the queue

                async def replay(entry: InboxEntry) -> None:
                    metrics.inbox_takeovers.labels(outcome="replayed").inc()
                    alerts.notify(
                        "inbox:takeover",
                        "Update taken over from a stopped process",
                        f"update {entry.update_id}, attempt {entry.attempts}: a process "
                        "stopped before finishing it (killed? out of memory?)",
                        icon="♻️",
                    )
                    await application.update_queue.put(
                        Update.de_json(entry.payload, application.bot)
                    )

                async def abandon(entry: InboxEntry) -> None:
                    metrics.inbox_takeovers.labels(outcome="abandoned").inc()
                    alerts.notify(
                        "inbox:abandoned",
                        "Update given up",
                        f"update {entry.update_id}: interrupted {entry.attempts - 1} times; "
                        "the user was asked to send it again",
                        icon="🛑",
                    )
                    await tell_abandoned(
                        application, Update.de_json(entry.payload, application.bot)
                    )

                inbox.start(replay=replay, abandon=abandon)
            started.set()
            housekeeping = asyncio.create_task(forget_old_state_periodically(db))
            log.info("bot running", extra={"mode": mode, "bot": application.bot.username})
            alerts.startup(mode=mode)
            await stop.wait()
            log.info("stopping: finishing the updates in flight")
        finally:
            started.clear()
            if housekeeping is not None:
                housekeeping.cancel()
            inflight.close()  # no new updates; /health/ready fails
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await inflight.drain(settings.shutdown_grace_seconds)
            if application.running:
                await application.stop()  # also handles updates queued before the close
            if inbox is not None:
                await inbox.stop()
    log.info("bot stopped")
