"""Admin alerts: short HTML messages to ``ADMIN_CHAT_ID`` (DESIGN.md §6 "Alerts").

Kinds: the OCR circuit breaker opening and closing, database errors, unhandled handler errors
(with the stack trace in a collapsed block), start-up (version and Fly release), and watchdog
findings.

Rules:

- **Never in the way.** :meth:`AdminAlerts.notify` decides (de-duplication), schedules the send
  as a background task with a short timeout and returns at once; a slow or broken alert
  channel never delays or breaks the handling of a user's update. It may be called from
  another thread (the OCR workers, where the circuit breaker changes state).
- **De-duplicated.** One alert key is sent at most once per window (10 minutes by default);
  the next one after the window says how many were suppressed meanwhile.
- **Failing channel logged once.** When sending fails, one ERROR line is logged; further
  failures are silent until a send succeeds again (then one INFO line says so).
- **No chat, logs only.** Without ``ADMIN_CHAT_ID`` every alert is only logged. Every alert that
  passes de-duplication is logged at WARNING anyway, so the logs hold the same story.
- **No secrets.** Texts go through the log redactor (bot tokens, URL passwords, registered
  secrets) before they are sent or logged.

Wiring in the bot (PTB)::

    alerts = AdminAlerts(application.bot.send_message, settings.admin_chat_id)
    application.bot_data["alerts"] = alerts
    # in the one error handler: alerts.database_error(error) for database errors,
    # alerts.handler_error(error, update_id=...) otherwise (or use alerting_error_handler)
    watch_circuit(pool.breaker, alerts=alerts, metrics=get_metrics())
    readiness.add("database", alerting_check(ping_database, alerts), cache_seconds=5)
    alerts.startup(mode="webhook")
    ...
    await alerts.aclose(timeout=2)   # at shutdown: waits briefly for alerts being sent

Outside PTB (watchdog, CLI), :func:`telegram_sender` posts with aiohttp::

    async with aiohttp.ClientSession() as session:
        alerts = AdminAlerts(telegram_sender(api_url, token, session), chat_id)
        alerts.notify("watchdog", "...")
        await alerts.aclose()
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from just_ingredients.config import Settings, get_settings
from just_ingredients.observability import REDACTOR, Redactor

if TYPE_CHECKING:
    import aiohttp

    from just_ingredients.observability import Metrics
    from just_ingredients.vision.breaker import BreakerState, CircuitBreaker

log = logging.getLogger(__name__)

#: Telegram's limit for one message (counted on the text after entity parsing; we count the
#: HTML source, which is never shorter, so the limit always holds)
MAX_MESSAGE_LENGTH = 4096
DEFAULT_WINDOW_SECONDS = 600.0
DEFAULT_SEND_TIMEOUT = 5.0
#: alerts being sent at once; beyond that new ones are dropped (and counted in the logs)
MAX_PENDING_SENDS = 20


class SendMessage(Protocol):
    """How an alert leaves the process: keyword call compatible with PTB's
    ``bot.send_message(chat_id=..., text=..., parse_mode=...)``."""

    def __call__(self, *, chat_id: int, text: str, parse_mode: str | None) -> Awaitable[Any]: ...


class AlertDeliveryError(Exception):
    """The Bot API refused an alert (or answered something that is not JSON)."""


# --------------------------------------------------------------------------- senders


def bot_api_base(api_url: str) -> str:
    """``TELEGRAM_API_URL`` without a trailing ``/`` or ``/bot`` (both spellings are seen)."""
    base = api_url.rstrip("/")
    return base.removesuffix("/bot")


def telegram_sender(api_url: str, token: str, session: aiohttp.ClientSession) -> SendMessage:
    """A :class:`SendMessage` that POSTs to ``{api_url}/bot{token}/sendMessage`` with aiohttp.

    Raises :class:`AlertDeliveryError` (never showing the URL, which holds the token) when
    Telegram answers anything but ``ok``; aiohttp's own errors propagate (their text is
    redacted by :class:`AdminAlerts` before it is logged)."""
    url = f"{bot_api_base(api_url)}/bot{token}/sendMessage"

    async def send(*, chat_id: int, text: str, parse_mode: str | None = "HTML") -> Any:
        payload: dict[str, Any] = {
            "chat_id": chat_id,
            "text": text,
            "link_preview_options": {"is_disabled": True},
        }
        if parse_mode:
            payload["parse_mode"] = parse_mode
        async with session.post(url, json=payload) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
            if not isinstance(body, dict) or not body.get("ok"):
                description = body.get("description") if isinstance(body, dict) else None
                raise AlertDeliveryError(
                    f"sendMessage answered {response.status}: {description or response.reason}"
                )
            return body.get("result")

    return send


# --------------------------------------------------------------------------- formatting


def _len16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _fit_tail(raw: str, budget: int) -> str:
    """The HTML-escaped end of ``raw`` (with a leading "…" if cut) that fits in ``budget``
    UTF-16 units. The end of a trace holds the failing frame and the exception."""
    escaped = _escape(raw)
    if _len16(escaped) <= budget:
        return escaped
    if budget <= 1:
        return ""
    low, high = 0, len(raw)  # the longest tail raw[-n:] whose escaped form fits
    while low < high:
        mid = (low + high + 1) // 2
        if _len16("…" + _escape(raw[-mid:])) <= budget:
            low = mid
        else:
            high = mid - 1
    return "…" + _escape(raw[-low:]) if low else ""


def _fit_head(text_html: str, budget: int) -> str:
    """Cut already-escaped HTML text (no tags in it) to ``budget`` without splitting an entity."""
    if _len16(text_html) <= budget:
        return text_html
    if budget <= 1:
        return ""
    cut = text_html[: max(0, budget - 1)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    while _len16(cut) > budget - 1:
        cut = cut[:-1]
    return cut + "…"


def format_alert(
    title: str,
    body: str = "",
    *,
    details: str | None = None,
    suppressed: int = 0,
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
    context: str | None = None,
    icon: str = "⚠️",
    limit: int = MAX_MESSAGE_LENGTH,
) -> str:
    """One alert as Telegram HTML, at most ``limit`` UTF-16 units long.

    ``title``, ``body``, ``context`` and ``details`` are plain text (escaped here); ``details``
    (a stack trace) goes into a collapsed ``<blockquote expandable>`` and is trimmed from the
    start to fit."""
    title_html = _fit_head(_escape(title), 200)
    extras = []
    if suppressed:
        minutes = max(1, round(window_seconds / 60))
        plural = "s" if suppressed != 1 else ""
        extras.append(
            f"<i>(+{suppressed} similar alert{plural} suppressed in the last {minutes} min)</i>"
        )
    if context:
        extras.append(f"<i>{_fit_head(_escape(context), 200)}</i>")
    fixed = f"{icon} <b>{title_html}</b>"
    # the body gets what the title and the extras leave (half the message when a trace follows)
    room = (limit // 2 if details else limit) - _len16(fixed) - sum(_len16(e) + 1 for e in extras)
    parts = [fixed]
    if body:
        parts.append(_fit_head(_escape(body), max(0, room - 1)))
    head = "\n".join([*parts, *extras])
    if details:
        open_tag, close_tag = "<blockquote expandable>", "</blockquote>"
        budget = limit - _len16(head) - 1 - _len16(open_tag) - _len16(close_tag)
        tail = _fit_tail(details.rstrip(), budget)
        if tail.strip():
            return f"{head}\n{open_tag}{tail}{close_tag}"
    return head


def format_exception(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _exception_site(exc: BaseException) -> str:
    """Where an exception was raised (innermost frame), for de-duplication keys."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    if frames:
        last = frames[-1]
        return f"{os.path.basename(last.filename)}:{last.lineno}"
    return str(exc).splitlines()[0][:80] if str(exc) else ""


@dataclass(frozen=True)
class Release:
    """Where this process runs, as Fly.io tells its machines (``FLY_*``, read by
    :class:`~just_ingredients.config.Settings`); all None elsewhere."""

    app: str | None = None
    machine: str | None = None
    region: str | None = None
    image: str | None = None
    release: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Release:
        return cls(
            app=settings.fly_app_name,
            machine=settings.fly_machine_id,
            region=settings.fly_region,
            image=settings.fly_image_ref,
            release=settings.fly_release_version,
        )

    @classmethod
    def current(cls) -> Release:
        """From the process's settings; empty when they are invalid (an alert must not fail
        for a setting it does not need)."""
        try:
            return cls.from_settings(get_settings())
        except ValueError:  # pydantic's ValidationError
            return cls()


def release_info(release: Release | None = None) -> dict[str, str]:
    """Version and, on Fly.io, the release, image, app, machine and region (default: those
    of this process)."""
    from just_ingredients import __version__

    fly = Release.current() if release is None else release
    info = {"version": __version__}
    for key in ("release", "image", "app", "machine", "region"):
        value = getattr(fly, key)
        if value:
            info[key] = value
    return info


def _context_line(release: Release | None = None) -> str | None:
    fly = Release.current() if release is None else release
    bits = [bit for bit in (fly.app, fly.machine, fly.region) if bit]
    return " · ".join(bits) or None


# --------------------------------------------------------------------------- alerts


@dataclass
class _KeyState:
    last_sent: float
    suppressed: int = 0


class AdminAlerts:
    """De-duplicated, non-blocking alerts to the admin chat (see the module docstring).

    ``send`` is called as ``send(chat_id=..., text=..., parse_mode="HTML")``; ``chat_id=None``
    or ``send=None`` means "log only". ``clock`` (monotonic seconds) is injectable for tests.
    """

    def __init__(
        self,
        send: SendMessage | Callable[..., Awaitable[Any]] | None,
        chat_id: int | None,
        *,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        send_timeout: float = DEFAULT_SEND_TIMEOUT,
        secrets: Iterable[str] = (),
        release: Release | None = None,
    ) -> None:
        self._send = send
        self.chat_id = chat_id
        self.window_seconds = window_seconds
        self.send_timeout = send_timeout
        self._clock = clock
        self._redact = Redactor(secrets)
        #: where this process runs (named in the alerts); default: from the settings
        self._release = release
        self._lock = threading.Lock()
        self._keys: dict[str, _KeyState] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.bind_loop()
        self._channel_ok = True
        self._dropped = 0
        #: counters for tests and the shutdown log line
        self.sent = 0
        self.failed = 0

    def bind_loop(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """The loop that sends alerts raised in other threads (default: the running one;
        done by the constructor and by every :meth:`notify` made inside a loop)."""
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
        self._loop = loop

    @property
    def release(self) -> Release:
        if self._release is None:
            self._release = Release.current()
        return self._release

    @property
    def enabled(self) -> bool:
        """True when alerts are sent to a chat (not only logged)."""
        return self._send is not None and self.chat_id is not None

    @property
    def channel_ok(self) -> bool:
        return self._channel_ok

    def _clean(self, text: str) -> str:
        return self._redact(REDACTOR(text))

    # -- the one entry point -----------------------------------------------------------------

    def notify(
        self,
        key: str,
        title: str,
        body: str = "",
        *,
        details: str | None = None,
        icon: str = "⚠️",
    ) -> bool:
        """Alert once per window for ``key``; returns at once. False when suppressed.

        Texts are plain (escaped here). Safe to call from any thread; from a thread without
        an event loop the send is handed to the loop this object last ran in. Never raises:
        an alert must not break the code that reports."""
        try:
            return self._notify(key, title, body, details=details, icon=icon)
        except Exception:
            log.exception("admin alert failed", extra={"alert_key": key})
            return False

    def _notify(self, key: str, title: str, body: str, *, details: str | None, icon: str) -> bool:
        now = self._clock()
        with self._lock:
            state = self._keys.get(key)
            if state is not None and now - state.last_sent < self.window_seconds:
                state.suppressed += 1
                return False
            suppressed = state.suppressed if state is not None else 0
            self._keys[key] = _KeyState(last_sent=now)
        title, body = self._clean(title), self._clean(body)
        details = self._clean(details) if details else None
        log.warning(
            "admin alert: %s%s",
            title,
            f" — {body.splitlines()[0]}" if body else "",
            extra={"alert_key": key, "suppressed": suppressed},
        )
        if not self.enabled:
            return True
        text = format_alert(
            title,
            body,
            details=details,
            suppressed=suppressed,
            window_seconds=self.window_seconds,
            context=_context_line(self.release),
            icon=icon,
        )
        self._schedule(text)
        return True

    def _schedule(self, text: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._loop = loop
            self._start(text)
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._start, text)
        else:
            log.warning("admin alert not sent: no event loop to send it from")

    def _start(self, text: str) -> None:
        if len(self._tasks) >= MAX_PENDING_SENDS:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 100 == 0:
                log.warning(
                    "admin alerts dropped: too many being sent", extra={"dropped": self._dropped}
                )
            return
        task = asyncio.get_running_loop().create_task(self._deliver(text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, text: str) -> None:
        assert self._send is not None
        assert self.chat_id is not None
        try:
            await asyncio.wait_for(
                self._send(chat_id=self.chat_id, text=text, parse_mode="HTML"),
                self.send_timeout,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed += 1
            if self._channel_ok:
                self._channel_ok = False
                reason = "timed out" if isinstance(exc, TimeoutError) else _describe(exc)
                log.error(
                    "admin alert channel failing (%s); further failures are not logged "
                    "until it recovers",
                    self._clean(reason),
                )
            return
        self.sent += 1
        if not self._channel_ok:
            self._channel_ok = True
            log.info("admin alert channel recovered", extra={"failed_meanwhile": self.failed})

    async def flush(self, timeout: float = DEFAULT_SEND_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait up to ``timeout`` for the alerts being sent (e.g. before a CLI exits)."""
        await asyncio.sleep(0)  # let sends handed over from other threads start
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    async def aclose(self, timeout: float = DEFAULT_SEND_TIMEOUT) -> None:  # noqa: ASYNC109
        """Flush, then cancel whatever is still being sent."""
        await self.flush(timeout)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- the alert kinds -----------------------------------------------------------------------

    def circuit_opened(
        self, *, failures: int | None = None, retry_after: float | None = None
    ) -> bool:
        body = "OCR failed repeatedly; new scans are refused"
        if failures:
            body = f"OCR failed {failures} time(s) in a row; new scans are refused"
        if retry_after is not None:
            body += f" for {retry_after:.0f} s, then one trial scan is let through"
        return self.notify("circuit:open", "OCR circuit breaker opened", body + ".", icon="🔴")

    def circuit_closed(self) -> bool:
        return self.notify(
            "circuit:closed",
            "OCR circuit breaker closed",
            "A trial scan succeeded; scans are accepted again.",
            icon="🟢",
        )

    def database_error(self, exc: BaseException, *, where: str | None = None) -> bool:
        body = _describe(exc)
        if where:
            body = f"{where}: {body}"
        return self.notify(
            f"database:{type(exc).__name__}",
            "Database error",
            body,
            details=format_exception(exc) if exc.__traceback__ else None,
            icon="🔴",
        )

    def handler_error(
        self, exc: BaseException, *, update_id: int | None = None, where: str | None = None
    ) -> bool:
        """An unhandled exception in an update handler: type, message, update id, and the
        stack trace in a collapsed block. Keyed by type and raising line."""
        lines = [f"{type(exc).__name__}: {str(exc).strip()[:500]}".rstrip(": ")]
        if update_id is not None:
            lines.append(f"update {update_id}")
        if where:
            lines.append(where)
        return self.notify(
            f"handler:{type(exc).__name__}:{_exception_site(exc)}",
            "Unhandled error in a handler",
            "\n".join(lines),
            details=format_exception(exc),
            icon="🐞",
        )

    def startup(self, *, mode: str | None = None) -> bool:
        info = release_info(self.release)
        bits = [f"version {info['version']}"]
        if "release" in info:
            bits.append(f"release v{info['release']}")
        if "image" in info:
            bits.append(f"image {info['image']}")
        if mode:
            bits.append(f"{mode} mode")
        # one per process: the key is unique so a quick restart is still reported
        return self.notify(f"startup:{id(self)}", "Bot started", ", ".join(bits), icon="🚀")

    def watchdog_findings(self, findings: Sequence[str]) -> bool:
        if not findings:
            return False
        body = "\n".join(f"• {f}" for f in findings)
        return self.notify("watchdog", f"Watchdog: {len(findings)} finding(s)", body, icon="🐶")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --------------------------------------------------------------------------- PTB error handler


def alerting_error_handler(alerts: AdminAlerts) -> Callable[[object, Any], Awaitable[None]]:
    """A PTB error handler (``application.add_error_handler(...)``): logs the exception with
    the update id and sends a :meth:`AdminAlerts.handler_error` alert."""

    async def on_error(update: object, context: Any) -> None:
        error = getattr(context, "error", None)
        update_id = getattr(update, "update_id", None)
        if error is None:
            return
        log.error(
            "unhandled error while handling an update",
            exc_info=(type(error), error, error.__traceback__),
            extra={"update_id": update_id},
        )
        alerts.handler_error(error, update_id=update_id)

    return on_error


# --------------------------------------------------------------------------- readiness checks


def alerting_check(
    check: Callable[[], Awaitable[tuple[bool, str]]],
    alerts: AdminAlerts,
    *,
    name: str = "database",
) -> Callable[[], Awaitable[tuple[bool, str]]]:
    """Wrap a readiness check (``web.Readiness.add``) so that its going from passing to
    failing sends one alert (``database:unreachable`` for the default name) and its recovery
    is logged. The probes (Fly checks every few seconds) drive it; results are unchanged."""
    failing = False

    async def checked() -> tuple[bool, str]:
        nonlocal failing
        try:
            ok, detail = await check()
        except Exception as exc:
            ok, detail = False, _describe(exc)
            error: BaseException | None = exc
        else:
            error = None
        if not ok and not failing:
            failing = True
            if name == "database" and error is not None:
                alerts.database_error(error, where="readiness check")
            else:
                alerts.notify(
                    f"{name}:unready", f"{name.capitalize()} check failing", detail, icon="🔴"
                )
        elif ok and failing:
            failing = False
            log.warning("%s check passing again", name)
        if error is not None:
            raise error
        return ok, detail

    return checked


# --------------------------------------------------------------------------- circuit breaker


class CircuitWatch:
    """Reports a :class:`~just_ingredients.vision.breaker.CircuitBreaker`'s state changes
    (a breaker listener; works from the OCR worker threads) and keeps them in ``changes``."""

    def __init__(
        self,
        breaker: CircuitBreaker,
        on_change: Callable[[BreakerState, BreakerState], None],
    ) -> None:
        self.breaker = breaker
        self._on_change = on_change
        self.changes: list[tuple[str, str]] = []
        breaker.add_listener(self._heard)

    def _heard(self, previous: BreakerState, current: BreakerState) -> None:
        self.changes.append((str(previous), str(current)))
        self._on_change(previous, current)


def watch_circuit(
    breaker: CircuitBreaker,
    *,
    alerts: AdminAlerts | None = None,
    metrics: Metrics | None = None,
) -> CircuitWatch:
    """Alert when the breaker opens (closed → open, or a failed trial re-opening it) and when
    it closes again; log every change; make ``ji_circuit_state`` read the breaker's live state
    at each scrape (so the time-based open → half-open change is exported too)."""
    from just_ingredients.vision.breaker import BreakerState

    def on_change(previous: BreakerState, current: BreakerState) -> None:
        log.warning(
            "OCR circuit breaker %s → %s",
            previous,
            current,
            extra={"failures": breaker.consecutive_failures},
        )
        if alerts is None:
            return
        if current is BreakerState.OPEN:
            alerts.circuit_opened(
                failures=breaker.consecutive_failures, retry_after=breaker.retry_after()
            )
        elif current is BreakerState.CLOSED:
            alerts.circuit_closed()

    if alerts is not None:
        alerts.bind_loop()
    watch = CircuitWatch(breaker, on_change)
    if metrics is not None:
        metrics.circuit_state.set_function(lambda: float(breaker.state_number))
    return watch
