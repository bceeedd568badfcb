"""Operations commands: the post-deploy ``smoke`` check and the monthly ``cost-report``.

Both are used by ``deploy/scripts/deploy.sh`` and the runbook (docs/deployment.md). They
talk to the outside world only through aiohttp (smoke) and SQLAlchemy (database size), and
take every input as an argument, so tests drive them against local servers.

Smoke, in order (DESIGN.md §6):

1. ``GET {base}/health/live`` and ``GET {base}/health/ready`` answer 200 (retried until
   ``wait_seconds``: a stopped Fly machine is started by the first request);
2. ``getWebhookInfo`` shows the expected URL and no ``last_error_date`` at or after
   ``since`` (the deploy start, or now minus ``max_error_age``);
3. a sample photo goes through the real webhook path: ``sendPhoto`` to ``ADMIN_CHAT_ID``
   gives a ``file_id``; an update with that photo, from the admin in the admin's private
   chat, is POSTed to ``{base}/telegram/webhook`` with the secret header; it must answer 200;
4. the bot's answer is checked, by the first verifier that applies:
   - **fake Bot API** (``{TELEGRAM_API_URL}/_fake/health`` answers: tests, local runs): the
     messages in the admin chat after our photo (sent or edited in place) must name the
     expected ingredients;
   - **database** (``check_draft``, with ``DATABASE_URL`` reaching the app's database, e.g.
     run on the machine with ``fly ssh console -C`` or through ``fly proxy``): a draft of
     the admin created since the start must hold the expected ingredients;
   - otherwise the real Bot API has no way to read a bot's own messages: the step is a
     warning ("not verified"), the webhook's 200 and getWebhookInfo are what is checked,
     and the admin sees the review message in the admin chat.
"""

from __future__ import annotations

import asyncio
import json
import time
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp

from just_ingredients.config import WEBHOOK_PATH

Status = Literal["ok", "warn", "fail"]

#: ingredient names `scan` finds in the bundled samples (checked by tests/cli and build-image.sh)
SAMPLE_INGREDIENTS: dict[str, tuple[str, ...]] = {
    "crepes_fr.jpg": ("farine", "lait", "sucre", "beurre"),
    "pancakes_en.jpg": ("flour", "milk", "sugar"),
    "cookies_en.jpg": ("flour", "sugar"),
    "quiche_fr.jpg": ("lait", "sel"),
}
DEFAULT_PHOTO = Path("samples/photos/crepes_fr.jpg")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


# ---------------------------------------------------------------------------------- smoke


@dataclass
class Check:
    name: str
    status: Status
    detail: str
    seconds: float = 0.0


@dataclass
class SmokeOptions:
    base_url: str
    api_url: str = "https://api.telegram.org"
    token: str | None = None
    webhook_secret: str | None = None
    admin_chat_id: int | None = None
    expect_webhook: str | None = None  # default: base_url + WEBHOOK_PATH
    photo: Path | None = DEFAULT_PHOTO
    expect_ingredients: Sequence[str] | None = None  # default: SAMPLE_INGREDIENTS[photo.name]
    since: float | None = None  # unix time of the deploy start
    max_error_age: float = 600.0  # used when since is None
    wait_seconds: float = 30.0
    reply_timeout: float = 90.0
    http_only: bool = False
    check_draft: bool = False
    database_url: str | None = None
    request_timeout: float = 10.0


@dataclass
class SmokeReport:
    base_url: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def add(self, name: str, status: Status, detail: str, started: float) -> Check:
        check = Check(name, status, detail, round(time.monotonic() - started, 2))
        self.checks.append(check)
        return check

    def to_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "ok": self.ok,
            "checks": [asdict(c) for c in self.checks],
        }


def _fold(text: str) -> str:
    """Lowercase without accents, œ as oe: 'Œufs' and 'oeufs' compare equal."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def missing_ingredients(expected: Sequence[str], found_text: str) -> list[str]:
    folded = _fold(found_text)
    return [name for name in expected if _fold(name) not in folded]


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:160] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _BotApi:
    """The few Bot API calls the smoke needs; errors come back as one line, never the token."""

    def __init__(self, session: aiohttp.ClientSession, api_url: str, token: str) -> None:
        self._session = session
        self._base = f"{api_url.rstrip('/')}/bot{token}"
        self._token = token

    async def call(self, method: str, data: Any = None) -> Any:
        try:
            async with self._session.post(f"{self._base}/{method}", data=data) as response:
                body = await response.text()
        except aiohttp.ClientError as exc:
            raise RuntimeError(f"{method}: {_short(exc)}".replace(self._token, "<token>")) from None
        try:
            payload = json.loads(body)
        except ValueError:
            raise RuntimeError(f"{method}: HTTP {response.status}, not JSON") from None
        if not payload.get("ok"):
            raise RuntimeError(f"{method}: {payload.get('description', 'error')}")
        return payload["result"]


async def _get_until_200(
    session: aiohttp.ClientSession, url: str, deadline: float
) -> tuple[bool, str]:
    last = "no answer"
    while True:
        try:
            async with session.get(url) as response:
                text = (await response.text())[:200].replace("\n", " ")
                if response.status == 200:
                    return True, f"200 {text}".strip()
                last = f"HTTP {response.status} {text}".strip()
        except (aiohttp.ClientError, TimeoutError) as exc:
            last = _short(exc) if str(exc) else "timed out"
        if time.monotonic() >= deadline:
            return False, last
        await asyncio.sleep(1.0)


def photo_update(admin_chat_id: int, message: dict[str, Any]) -> dict[str, Any]:
    """The update Telegram would send when the admin sends ``message['photo']`` to the bot."""
    now = int(time.time())
    user = {"id": admin_chat_id, "is_bot": False, "first_name": "smoke", "language_code": "fr"}
    return {
        # above any real id of a quiet bot, distinct per run (processed_updates dedups ids)
        "update_id": 2_000_000_000 + now % 100_000_000,
        "message": {
            "message_id": int(message.get("message_id", 0)) + 1,
            "date": now,
            "chat": {"id": admin_chat_id, "type": "private", "first_name": "smoke"},
            "from": user,
            "photo": message["photo"],
            "caption": "smoke test",
        },
    }


async def _fake_replies(
    session: aiohttp.ClientSession, api_url: str, chat_id: int, after_message_id: int
) -> str | None:
    """Texts of the bot's messages after ``after_message_id`` if the Bot API is the test fake,
    else None."""
    root = api_url.rstrip("/")
    try:
        async with session.get(f"{root}/_fake/health") as response:
            if response.status != 200:
                return None
        async with session.get(f"{root}/_fake/messages", params={"chat_id": chat_id}) as r:
            messages = await r.json()
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    texts = [
        str(m.get("text") or m.get("caption") or "")
        for m in messages
        if int(m.get("message_id", 0)) > after_message_id and m.get("from", {}).get("is_bot", True)
    ]
    return "\n".join(texts)


async def _draft_ingredients(database_url: str, telegram_id: int, since: float) -> str | None:
    """Ingredient names of the admin's newest draft created since ``since``, or None."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from just_ingredients.storage.engine import create_engine, parse_database_url

    engine = create_engine(parse_database_url(database_url))
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT d.ingredients FROM drafts d JOIN users u ON u.id = d.user_id "
                        "WHERE u.telegram_id = :tid AND d.created_at >= :since "
                        "ORDER BY d.id DESC LIMIT 1"
                    ),
                    {"tid": telegram_id, "since": datetime.fromtimestamp(since - 5, UTC)},
                )
            ).first()
    finally:
        await engine.dispose()
    if row is None:
        return None
    items = row[0] if isinstance(row[0], list) else json.loads(row[0] or "[]")
    return "\n".join(str(i.get("name", "")) if isinstance(i, dict) else str(i) for i in items)


async def run_smoke(options: SmokeOptions) -> SmokeReport:
    base = options.base_url.rstrip("/")
    report = SmokeReport(base)
    started_at = time.time()
    since = options.since if options.since is not None else started_at - options.max_error_age
    timeout = aiohttp.ClientTimeout(total=options.request_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        deadline = time.monotonic() + options.wait_seconds
        for path in ("/health/live", "/health/ready"):
            t0 = time.monotonic()
            ok, detail = await _get_until_200(session, base + path, deadline)
            report.add(f"GET {path}", "ok" if ok else "fail", detail, t0)
        if options.http_only:
            return report
        if not options.token:
            report.add("telegram", "fail", "TELEGRAM_BOT_TOKEN is not set", time.monotonic())
            return report
        api = _BotApi(session, options.api_url, options.token)

        t0 = time.monotonic()
        expected_url = options.expect_webhook or base + WEBHOOK_PATH
        try:
            info = await api.call("getWebhookInfo")
            problems = []
            if info.get("url") != expected_url:
                problems.append(f"url is {info.get('url')!r}, expected {expected_url!r}")
            error_date = info.get("last_error_date")
            if error_date and error_date >= since:
                age = int(time.time() - error_date)
                problems.append(f"last error {age}s ago: {info.get('last_error_message', '?')}")
            pending = info.get("pending_update_count", 0)
            detail = "; ".join(problems) or f"url ok, no recent error, {pending} pending"
            report.add("getWebhookInfo", "fail" if problems else "ok", detail, t0)
        except RuntimeError as exc:
            report.add("getWebhookInfo", "fail", str(exc), t0)

        await _photo_round_trip(session, api, options, report, started_at)
    return report


async def _photo_round_trip(
    session: aiohttp.ClientSession,
    api: _BotApi,
    options: SmokeOptions,
    report: SmokeReport,
    started_at: float,
) -> None:
    t0 = time.monotonic()
    if options.photo is None:
        report.add("photo", "warn", "skipped (no --photo)", t0)
        return
    if options.admin_chat_id is None or options.admin_chat_id <= 0:
        report.add("photo", "fail", "ADMIN_CHAT_ID must be the admin's private chat id", t0)
        return
    if not options.webhook_secret:
        report.add("photo", "fail", "WEBHOOK_SECRET is not set", t0)
        return
    try:
        data = options.photo.read_bytes()
    except OSError as exc:
        report.add("photo", "fail", f"cannot read {options.photo}: {exc.strerror or exc}", t0)
        return
    form = aiohttp.FormData()
    form.add_field("chat_id", str(options.admin_chat_id))
    form.add_field("caption", "just-ingredients smoke test photo")
    form.add_field("disable_notification", "true")
    form.add_field("photo", data, filename=options.photo.name, content_type="image/jpeg")
    try:
        sent = await api.call("sendPhoto", form)
    except RuntimeError as exc:
        report.add("sendPhoto", "fail", str(exc), t0)
        return
    report.add("sendPhoto", "ok", f"file_id {sent['photo'][-1]['file_id'][:12]}…", t0)

    t0 = time.monotonic()
    update = photo_update(options.admin_chat_id, sent)
    url = options.base_url.rstrip("/") + WEBHOOK_PATH
    try:
        async with session.post(
            url, json=update, headers={SECRET_HEADER: options.webhook_secret}
        ) as response:
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        report.add(f"POST {WEBHOOK_PATH}", "fail", _short(exc) or "timed out", t0)
        return
    report.add(f"POST {WEBHOOK_PATH}", "ok" if status == 200 else "fail", f"HTTP {status}", t0)
    if status != 200:
        return

    t0 = time.monotonic()
    expected = list(
        options.expect_ingredients
        if options.expect_ingredients is not None
        else SAMPLE_INGREDIENTS.get(options.photo.name, ())
    )
    deadline = time.monotonic() + options.reply_timeout
    verifier = ""
    found: str | None = None
    while True:
        found = await _fake_replies(
            session, options.api_url, options.admin_chat_id, int(sent["message_id"])
        )
        verifier = "bot reply (fake Bot API)"
        if found is None and options.check_draft and options.database_url:
            verifier = "draft in the database"
            try:
                found = await _draft_ingredients(
                    options.database_url, options.admin_chat_id, started_at
                )
            except Exception as exc:  # any driver error: report it, do not crash the smoke
                report.add("reply", "fail", f"database: {_short(exc)}", t0)
                return
            found = found or ""
        elif found is None:
            report.add(
                "reply",
                "warn",
                "not verified: the Bot API cannot read the bot's own messages (use "
                "--check-draft with DATABASE_URL); check the admin chat",
                t0,
            )
            return
        missing = missing_ingredients(expected, found) if found else expected or ["any reply"]
        if found and not missing:
            names = ", ".join(expected) or "a reply"
            report.add("reply", "ok", f"{verifier}: {names}", t0)
            return
        if time.monotonic() >= deadline:
            report.add("reply", "fail", f"{verifier}: missing {', '.join(missing)}", t0)
            return
        await asyncio.sleep(1.0)


# ------------------------------------------------------------------------------ cost report

#: Fly.io list prices in USD, as published on https://fly.io/docs/about/pricing/ and written
#: down here on PRICES_DATE from the author's knowledge of that page (this machine cannot reach
#: fly.io): TO BE CHECKED against the page at each cost review, then update the date.
#: Region differences (cdg is priced like the cheapest regions) are ignored.
#: Cross-check (2026-11-28, from stored copies of public pages, the pricing table itself was
#: not readable): Fly's "Cost Management" page (2025-10-23) gives, always on in sjc,
#: shared-1x 256 MB $2.32/month, 512 MB about $3.81, 1 GB $6.79 ($20.37 for three); this
#: table times 1.196 (sjc's premium, 2.32 / 1.94) gives $2.32, $3.83 and $6.80. A third-party
#: summary checked against fly.io on 2026-06-07 gives the smallest machine at about $2.02, so
#: the figures below may be some 4 % low.
PRICES_DATE = "2026-11-28"
PRICES_SOURCE = "https://fly.io/docs/about/pricing/ (not re-verified: check before relying)"
HOURS_PER_MONTH = 730
#: machine size -> (memory included in the base price in MB, USD per month running 730 h)
MACHINE_BASE_PRICES: dict[str, tuple[int, float]] = {
    "shared-cpu-1x": (256, 1.94),
    "shared-cpu-2x": (512, 3.89),
    "shared-cpu-4x": (1024, 7.78),
    "shared-cpu-8x": (2048, 15.55),
    "performance-1x": (2048, 31.00),
    "performance-2x": (4096, 62.00),
}
EXTRA_MEMORY_PER_GB_MONTH = 5.00  # memory above the size's included amount
VOLUME_PER_GB_MONTH = 0.15
DEDICATED_IPV4_PER_MONTH = 2.00  # shared IPv4 and IPv6 are free
#: expected running hours a month of a machine with auto-stop and min_machines_running = 0:
#: an assumption (a few hours of use a day in webhook mode), override with --hours
AUTOSTOP_HOURS_PER_MONTH = 120.0
#: the attached Fly Postgres of each app (`fly postgres create` in deploy.sh provision):
#: single node, always running
POSTGRES_VM = ("shared-cpu-1x", 256)
DATABASE_WARN_RATIO = 0.80


@dataclass
class AppCost:
    config: str
    app: str
    machines: int
    size: str
    memory_mb: int
    hours: float
    machine_usd: float
    volume_gb: float
    volume_usd: float
    dedicated_ipv4: bool
    ipv4_usd: float
    postgres_usd: float

    @property
    def total_usd(self) -> float:
        return round(self.machine_usd + self.volume_usd + self.ipv4_usd + self.postgres_usd, 2)


@dataclass
class DatabaseUsage:
    size_bytes: int | None
    volume_gb: float
    detail: str

    @property
    def ratio(self) -> float | None:
        if self.size_bytes is None or self.volume_gb <= 0:
            return None
        return self.size_bytes / (self.volume_gb * 1024**3)

    @property
    def over_threshold(self) -> bool:
        return self.ratio is not None and self.ratio >= DATABASE_WARN_RATIO


def parse_memory_mb(value: str | int) -> int:
    """'256mb', '1gb', '512' or 512 -> megabytes."""
    if isinstance(value, int):
        return value
    text = value.strip().lower().replace(" ", "")
    for suffix, factor in (("gb", 1024), ("g", 1024), ("mb", 1), ("m", 1)):
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


def machine_monthly_price(size: str, memory_mb: int, hours: float) -> float:
    if size not in MACHINE_BASE_PRICES:
        known = ", ".join(MACHINE_BASE_PRICES)
        raise ValueError(f"unknown machine size {size!r} (price table has {known})")
    included, base = MACHINE_BASE_PRICES[size]
    extra_gb = max(0, memory_mb - included) / 1024
    full_month = base + extra_gb * EXTRA_MEMORY_PER_GB_MONTH
    return full_month * hours / HOURS_PER_MONTH


def app_cost(
    path: Path,
    *,
    hours: float | None = None,
    postgres_volume_gb: float = 1.0,
    dedicated_ipv4: bool = False,
    with_postgres: bool = True,
) -> AppCost:
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    vms = config.get("vm") or [{}]
    vm = vms[0]
    size = str(vm.get("size", "shared-cpu-1x"))
    memory_mb = parse_memory_mb(vm.get("memory", vm.get("memory_mb", 256)))
    service = config.get("http_service", {})
    min_running = int(service.get("min_machines_running", 0))
    autostop = service.get("auto_stop_machines", False) not in (False, "off")
    machines = max(1, min_running)
    if hours is None:
        hours = AUTOSTOP_HOURS_PER_MONTH if autostop and min_running == 0 else HOURS_PER_MONTH
    machine_usd = machines * machine_monthly_price(size, memory_mb, hours)
    mounts = config.get("mounts") or []
    if isinstance(mounts, dict):
        mounts = [mounts]
    volume_gb = sum(parse_memory_mb(str(m.get("initial_size", "1gb"))) / 1024 for m in mounts)
    pg_size, pg_memory = POSTGRES_VM
    postgres_usd = (
        machine_monthly_price(pg_size, pg_memory, HOURS_PER_MONTH)
        + postgres_volume_gb * VOLUME_PER_GB_MONTH
        if with_postgres
        else 0.0
    )
    return AppCost(
        config=str(path),
        app=str(config.get("app", path.stem)),
        machines=machines,
        size=size,
        memory_mb=memory_mb,
        hours=hours,
        machine_usd=round(machine_usd, 2),
        volume_gb=volume_gb,
        volume_usd=round(volume_gb * VOLUME_PER_GB_MONTH, 2),
        dedicated_ipv4=dedicated_ipv4,
        ipv4_usd=DEDICATED_IPV4_PER_MONTH if dedicated_ipv4 else 0.0,
        postgres_usd=round(postgres_usd, 2),
    )


def _file_size(path: Path) -> tuple[int | None, str]:
    if not path.exists():
        return None, f"SQLite file {path} does not exist"
    return path.stat().st_size, f"SQLite file {path}"


async def database_size(database_url: str) -> tuple[int | None, str]:
    """(bytes, description): ``pg_database_size`` for PostgreSQL, the file size for SQLite."""
    from sqlalchemy import text

    from just_ingredients.storage.engine import create_engine, is_postgres, parse_database_url

    url = parse_database_url(database_url)
    if not is_postgres(url):
        if not url.database or url.database == ":memory:":
            return None, "in-memory SQLite"
        return _file_size(Path(url.database))
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            size = (
                await conn.execute(text("SELECT pg_database_size(current_database())"))
            ).scalar()
    finally:
        await engine.dispose()
    return int(size or 0), f"PostgreSQL {url.host or ''}/{url.database or ''}"


def database_usage(database_url: str | None, volume_gb: float) -> DatabaseUsage:
    if not database_url:
        return DatabaseUsage(None, volume_gb, "DATABASE_URL not set")
    try:
        size, detail = asyncio.run(database_size(database_url))
    except Exception as exc:  # any driver error: the estimate is still useful without it
        return DatabaseUsage(None, volume_gb, f"database unreachable: {_short(exc)}")
    return DatabaseUsage(size, volume_gb, detail)


def cost_report_json(apps: Sequence[AppCost], usage: DatabaseUsage) -> dict[str, Any]:
    return {
        "prices": {"date": PRICES_DATE, "source": PRICES_SOURCE, "currency": "USD"},
        "assumptions": {
            "hours_per_month": HOURS_PER_MONTH,
            "autostop_hours_per_month": AUTOSTOP_HOURS_PER_MONTH,
            "postgres_vm": list(POSTGRES_VM),
        },
        "apps": [{**asdict(a), "total_usd": a.total_usd} for a in apps],
        "total_usd": round(sum(a.total_usd for a in apps), 2),
        "database": {
            "size_bytes": usage.size_bytes,
            "volume_gb": usage.volume_gb,
            "ratio": None if usage.ratio is None else round(usage.ratio, 4),
            "warn_ratio": DATABASE_WARN_RATIO,
            "over_threshold": usage.over_threshold,
            "detail": usage.detail,
            "suggestion": ARCHIVE_SUGGESTION if usage.over_threshold else None,
        },
    }


ARCHIVE_SUGGESTION = "just-ingredients archive --older-than 90"
