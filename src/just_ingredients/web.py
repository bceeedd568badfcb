"""HTTP side of the bot (aiohttp).

Two applications on two ports (DESIGN.md §3 "Health and metrics"):

- the public app on ``HEALTH_PORT``: ``/health/live``, ``/health/ready`` and, in webhook mode,
  the Telegram webhook route (mounted with :func:`add_webhook_route` before serving);
- the metrics app on ``METRICS_PORT``: ``/metrics`` in Prometheus text format. It is never on
  the public app.

Typical wiring::

    readiness = Readiness()
    readiness.add("database", ping_database, cache_seconds=DATABASE_CHECK_CACHE_SECONDS)
    readiness.add("ocr", ocr_loaded)
    public = create_public_app(readiness)
    add_webhook_route(public, "/telegram", application.update_queue.put, secret=secret)
    async with serve(public, create_metrics_app(get_metrics()),
                     health_port=settings.health_port, metrics_port=settings.metrics_port):
        ...
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from telegram._utils.types import ODVInput  # PTB's own annotation of the timeouts
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from just_ingredients.observability import REDACTOR, Metrics, get_metrics

log = logging.getLogger(__name__)

CheckResult = tuple[bool, str]
#: a readiness check: an async callable answering (ok, detail); raising counts as failing
ReadinessCheck = Callable[[], Awaitable[CheckResult]]
#: receives one decoded Telegram update (e.g. ``application.update_queue.put``)
UpdateHandler = Callable[[dict[str, Any]], Awaitable[Any]]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DATABASE_CHECK_CACHE_SECONDS = 5.0
DEFAULT_CHECK_TIMEOUT = 2.0
#: Telegram updates are small; a photo arrives as a file_id, never as bytes
MAX_WEBHOOK_BODY = 1024 * 1024

METRICS_KEY = web.AppKey("metrics", Metrics)


# --------------------------------------------------------------------------- readiness


class CachedCheck:
    """Reuses a check's last result for ``ttl`` seconds; concurrent probes share one run."""

    def __init__(
        self, check: ReadinessCheck, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._check = check
        self._ttl = ttl
        self._clock = clock
        self._lock = asyncio.Lock()
        self._result: CheckResult | None = None
        self._at = 0.0

    async def __call__(self) -> CheckResult:
        async with self._lock:
            if self._result is not None and self._clock() - self._at < self._ttl:
                return self._result
            try:
                result = await self._check()
            except Exception as exc:
                # failures are cached too: a down database is not hammered by probes
                result = (False, _describe(exc))
            self._result = (bool(result[0]), str(result[1]))
            self._at = self._clock()
            return self._result


def _describe(exc: BaseException) -> str:
    """A failing check's detail: the exception type and redacted message (public endpoint)."""
    text = REDACTOR(str(exc)).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Readiness:
    """Named readiness checks, run concurrently with a timeout each."""

    def __init__(self, timeout: float = DEFAULT_CHECK_TIMEOUT) -> None:
        self.timeout = timeout
        self._checks: dict[str, ReadinessCheck] = {}
        self._advisory: set[str] = set()

    def add(
        self,
        name: str,
        check: ReadinessCheck,
        *,
        cache_seconds: float = 0.0,
        critical: bool = True,
    ) -> None:
        """Register ``check``; ``cache_seconds > 0`` reuses its result that long (the database
        check uses :data:`DATABASE_CHECK_CACHE_SECONDS`). A non-critical check is reported
        but never makes the instance unready (e.g. an open OCR circuit, if the bot should keep
        answering users with "try again later" rather than leave the load balancer)."""
        self._checks[name] = CachedCheck(check, cache_seconds) if cache_seconds > 0 else check
        if critical:
            self._advisory.discard(name)
        else:
            self._advisory.add(name)

    @property
    def names(self) -> list[str]:
        return list(self._checks)

    async def _run_one(self, check: ReadinessCheck) -> CheckResult:
        try:
            ok, detail = await asyncio.wait_for(check(), self.timeout)
        except TimeoutError:
            return False, f"timed out after {self.timeout:g}s"
        except Exception as exc:
            return False, _describe(exc)
        return bool(ok), str(detail)

    async def run(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        """(ready, {name: {"ok": bool, "state": "ok"|"failing", "detail": str, ...}}); ready
        when every critical check passes. Non-critical checks carry ``"critical": false``."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_one(self._checks[n]) for n in names))
        report: dict[str, dict[str, Any]] = {}
        for name, (ok, detail) in zip(names, results, strict=True):
            report[name] = {"ok": ok, "state": "ok" if ok else "failing", "detail": detail}
            if name in self._advisory:
                report[name]["critical"] = False
        ready = all(
            ok for name, (ok, _) in zip(names, results, strict=True) if name not in self._advisory
        )
        return ready, report


READINESS_KEY = web.AppKey("readiness", Readiness)


# --------------------------------------------------------------------------- webhook


def secret_token_matches(received: str | None, expected: str | None) -> bool:
    """Constant-time check of the ``X-Telegram-Bot-Api-Secret-Token`` header.

    A missing header or an unset expected secret never matches (fail closed)."""
    if not received or not expected:
        return False
    return hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8"))


def add_webhook_route(
    app: web.Application, path: str, on_update: UpdateHandler, *, secret: str
) -> None:
    """Mount the Telegram webhook at ``path`` (before the app is served).

    Requests without the right secret header get 403; a body that is not an update gets 400;
    otherwise ``on_update(update_dict)`` is awaited and Telegram gets 200. ``on_update`` should
    be quick (enqueue); if it raises, the answer is 500 and Telegram delivers the update again.
    """
    if not secret:
        raise ValueError("a webhook needs a secret token (WEBHOOK_SECRET)")

    async def telegram_webhook(request: web.Request) -> web.Response:
        if not secret_token_matches(request.headers.get(SECRET_HEADER), secret):
            log.warning("webhook request refused: bad secret", extra={"remote": request.remote})
            return web.json_response({"error": "forbidden"}, status=403)
        if request.content_length is not None and request.content_length > MAX_WEBHOOK_BODY:
            return web.json_response({"error": "too large"}, status=413)
        try:
            update = await request.json()
        except ValueError:
            return web.json_response({"error": "invalid JSON"}, status=400)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.json_response({"error": "not an update"}, status=400)
        try:
            await on_update(update)
        except Exception:
            log.exception("webhook update not accepted", extra={"update_id": update["update_id"]})
            return web.json_response({"error": "not accepted"}, status=500)
        return web.json_response({"ok": True})

    app.router.add_post(path, telegram_webhook)


# --------------------------------------------------------------------------- applications


async def _live(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _ready(request: web.Request) -> web.Response:
    ok, checks = await request.app[READINESS_KEY].run()
    body = {"status": "ready" if ok else "not ready", "checks": checks}
    return web.json_response(body, status=200 if ok else 503)


def create_public_app(
    readiness: Readiness | None = None,
    *,
    webhook: tuple[str, UpdateHandler, str] | None = None,
) -> web.Application:
    """The app for ``HEALTH_PORT``: health probes, and the webhook if ``(path, on_update,
    secret)`` is given (or mounted later with :func:`add_webhook_route`)."""
    app = web.Application(client_max_size=MAX_WEBHOOK_BODY)
    app[READINESS_KEY] = readiness if readiness is not None else Readiness()
    app.router.add_get("/health/live", _live)
    app.router.add_get("/health/ready", _ready)
    if webhook is not None:
        path, on_update, secret = webhook
        add_webhook_route(app, path, on_update, secret=secret)
    return app


async def _metrics(request: web.Request) -> web.Response:
    from prometheus_client import CONTENT_TYPE_LATEST

    body = request.app[METRICS_KEY].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_metrics_app(metrics: Metrics | None = None) -> web.Application:
    """The app for ``METRICS_PORT``: ``/metrics`` only."""
    app = web.Application()
    app[METRICS_KEY] = metrics if metrics is not None else get_metrics()
    app.router.add_get("/metrics", _metrics)
    return app


# --------------------------------------------------------------------------- serving


class WebServers:
    """Runs the public app and (optionally) the metrics app in the current event loop.

    Port 0 picks a free port; the bound ports are then in :attr:`health_port` and
    :attr:`metrics_port`."""

    def __init__(
        self,
        public_app: web.Application,
        metrics_app: web.Application | None = None,
        *,
        host: str = "0.0.0.0",
        health_port: int = 8080,
        metrics_port: int = 9091,
        metrics_host: str | None = None,
        shutdown_timeout: float = 10.0,
    ) -> None:
        self._apps = [(public_app, host, health_port)]
        if metrics_app is not None:
            self._apps.append((metrics_app, metrics_host or host, metrics_port))
        self._shutdown_timeout = shutdown_timeout
        self._runners: list[web.AppRunner] = []
        self.ports: list[int] = []

    @property
    def health_port(self) -> int:
        return self.ports[0]

    @property
    def metrics_port(self) -> int | None:
        return self.ports[1] if len(self.ports) > 1 else None

    async def start(self) -> None:
        try:
            for app, host, port in self._apps:
                runner = web.AppRunner(
                    app, access_log=None, shutdown_timeout=self._shutdown_timeout
                )
                await runner.setup()
                self._runners.append(runner)
                site = web.TCPSite(runner, host, port)
                await site.start()
                server = site._server
                sockets = getattr(server, "sockets", None) or ()
                self.ports.append(int(sockets[0].getsockname()[1]) if sockets else port)
        except BaseException:
            await self.stop()
            raise
        log.info("web servers listening", extra={"ports": self.ports})

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to ``shutdown_timeout``)."""
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            await runner.cleanup()


@asynccontextmanager
async def serve(
    public_app: web.Application,
    metrics_app: web.Application | None = None,
    *,
    host: str = "0.0.0.0",
    health_port: int = 8080,
    metrics_port: int = 9091,
    metrics_host: str | None = None,
    shutdown_timeout: float = 10.0,
) -> AsyncIterator[WebServers]:
    """``async with serve(public, metrics, health_port=..., metrics_port=...) as servers:``"""
    servers = WebServers(
        public_app,
        metrics_app,
        host=host,
        health_port=health_port,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        shutdown_timeout=shutdown_timeout,
    )
    await servers.start()
    try:
        yield servers
    finally:
        await servers.stop()


# --------------------------------------------------------------------------- Telegram client


class CountingHTTPXRequest(HTTPXRequest):
    """PTB's HTTP transport that counts failed Bot API calls in ``ji_telegram_errors_total``.

    A failure is a non-2xx answer (400, 403, 429, 5xx, ...) or a transport error (timeout,
    connection refused). The label is the API method (``sendMessage``), ``download`` for
    file downloads. Use it with ``ApplicationBuilder().request(CountingHTTPXRequest(...))``
    and ``.get_updates_request(...)``; it takes HTTPXRequest's keyword arguments.
    """

    def __init__(self, *args: Any, metrics: Metrics | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metrics = metrics

    @staticmethod
    def method_label(url: str) -> str:
        if "/file/bot" in url:
            return "download"
        return url.rsplit("/", 1)[-1].split("?", 1)[0] or "unknown"

    def _count(self, url: str) -> None:
        metrics = self._metrics if self._metrics is not None else get_metrics()
        metrics.telegram_errors.labels(method=self.method_label(url)).inc()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        try:
            code, payload = await super().do_request(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )
        except Exception:
            self._count(url)
            raise
        if not 200 <= code <= 299:
            self._count(url)
        return code, payload
