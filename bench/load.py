"""Load: N simulated users each send K photos at once, through the fake Bot API, to ONE real
bot process in webhook mode (a benchmark, not a timed test).

    uv run python bench/load.py [--users 50] [--photos 3] [--ocr-workers 1] [--queue-limit N]
                                [--database-url URL | --postgres]

Every photo is a different picture (the OCR cache by image hash must not help). Reports:
- every photo answered exactly once (one "Reading your photo…" status per photo, edited into
  a review; no other message), none lost;
- time from the webhook delivery to the first answer (the status message) and to the review,
  p50/p95/max: the first shows how long a user waits in silence when OCR is saturated;
- peak RSS of the bot process (VmHWM) against the `[[vm]] memory` of
  deploy/fly.production.toml;
- how the OCR queue bounds behave when saturated: "queued, number N" notices (OcrQueue,
  OCR_QUEUE_LIMIT) and "busy, send it again" refusals beyond the bound.

Defaults mirror production: OCR_WORKERS=1 (shared-cpu-1x has one vCPU), SQLite in a temp dir
unless --database-url is given. The bot's own flood limiter (30 Bot API calls/s, as Telegram
allows) is part of what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from tests.botproc import BotProcess  # noqa: E402
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram  # noqa: E402

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def photo(user: int, n: int) -> bytes:
    lines = [
        f"{100 + user % 900} g flour",
        f"{n + 2} eggs",
        f"{user % 9 + 1} tbsp sugar",
        "1 pinch of salt",
    ]
    face = ImageFont.truetype(FONT, 30)
    img = Image.new("RGB", (520, len(lines) * 48 + 80), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((40, 40 + i * 48), line, font=face, fill=(15, 15, 15))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=88)
    return out.getvalue()


def fly_memory_mb(path: Path = ROOT / "deploy" / "fly.production.toml") -> int:
    config = tomllib.loads(path.read_text("utf-8"))
    memory = str(config["vm"][0]["memory"]).lower()
    number = int(re.sub(r"\D", "", memory))
    return number * 1024 if "gb" in memory else number


def proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def pending(message: dict[str, Any]) -> bool:
    """Still a status: "Reading your photo…" or "… number N in the queue"."""
    text = message.get("text") or ""
    return "Reading" in text or "in the queue" in text


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="ji-load-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'load.db'}"
    cluster = None
    if args.postgres:  # a throwaway cluster (initdb/pg_ctl), as tests/operations uses
        from tests.operations.conftest import ThrowawayCluster, migrate

        cluster = ThrowawayCluster()
        url = cluster.url
        migrate(url)
    try:
        return await measure(args, tmp, url)
    finally:
        if cluster is not None:
            cluster.destroy()


async def measure(args: argparse.Namespace, tmp: Path, url: str) -> int:
    async with FakeTelegram(DEFAULT_TOKEN, webhook_retry_delay=0.1) as fake:
        env = {"OCR_WORKERS": str(args.ocr_workers), "LOG_LEVEL": "WARNING"}
        if args.queue_limit is not None:
            env["OCR_QUEUE_LIMIT"] = str(args.queue_limit)
        bot = BotProcess(fake, url, tmp, "webhook", env)
        await bot.start()
        assert bot.process is not None
        pid = bot.process.pid
        base_rss = proc_kb(pid, "VmRSS")
        users = list(range(900_000, 900_000 + args.users))
        updates: list[tuple[int, dict[str, Any]]] = []
        for user in users:
            for n in range(args.photos):
                file_id = fake.add_file(photo(user, n))
                updates.append((user, fake.make_photo_update(user, [file_id])))
        pushed: dict[tuple[int, int], float] = {}  # (user, k-th photo of the user) → time
        started = time.time()
        sent = dict.fromkeys(users, 0)
        for user, update in updates:  # all at once: the fake delivers them as fast as it can
            fake.push(update)
            pushed[(user, sent[user])] = time.time()
            sent[user] += 1
        total = len(updates)
        peak_rss = 0

        def status_ids(user: int) -> list[int]:
            """The messages the bot sent in the chat, in order: each photo gets one (the
            "Reading…"/"queued" status later edited into the review, or a "busy" refusal),
            and a chat's updates are handled one after the other, so the k-th answers the
            k-th photo."""
            return sorted(
                int(c.response["message_id"])
                for c in fake.calls("sendMessage")
                if c.ok and int(c.params.get("chat_id", 0)) == user
            )

        def statuses() -> dict[tuple[int, int], dict[str, Any]]:
            found = {}
            for user in users:
                for k, message_id in enumerate(status_ids(user)):
                    message = fake.message(user, message_id)
                    if message is not None:
                        found[(user, k)] = message
            return found

        def done() -> bool:
            found = statuses()
            return len(found) >= total and not any(pending(m) for m in found.values())

        deadline = time.time() + args.timeout
        while not done() and time.time() < deadline:
            peak_rss = max(peak_rss, proc_kb(pid, "VmRSS"))
            await asyncio.sleep(0.25)
        elapsed = time.time() - started
        await asyncio.sleep(1.0)  # late duplicates would show up now
        hwm = proc_kb(pid, "VmHWM")
        peak_rss = max(peak_rss, proc_kb(pid, "VmRSS"))

        # first answer (the status) and the review (its last edit) per photo, from the calls
        first: dict[tuple[int, int], float] = {}
        review: dict[tuple[int, int], float] = {}
        key_of: dict[tuple[int, int], tuple[int, int]] = {}
        for user in users:
            for k, message_id in enumerate(status_ids(user)):
                key_of[(user, message_id)] = (user, k)
        for call in fake.calls():
            if not call.ok or call.method not in ("sendMessage", "editMessageText"):
                continue
            chat = int(call.params.get("chat_id", 0))
            message_id = int(
                call.response["message_id"] if call.method == "sendMessage"
                else call.params.get("message_id", 0)
            )  # fmt: skip
            key = key_of.get((chat, message_id))
            if key is None or key not in pushed:
                continue
            if call.method == "sendMessage":
                first.setdefault(key, call.time)
            elif "flour" in str(call.params.get("text")):
                review[key] = call.time
        texts = [str(c.params.get("text") or "") for c in fake.calls("sendMessage")]
        texts += [str(c.params.get("text") or "") for c in fake.calls("editMessageText")]
        per_chat = {
            u: sum(m.get("from", {}).get("id") == fake.bot_id for m in fake.messages(u))
            for u in users
        }
        found = statuses()
        answered_once = sum(1 for k in pushed if k in found and not pending(found[k]))
        extra = sum(max(0, n - args.photos) for n in per_chat.values())
        reviews = [m for m in found.values() if "flour" in (m.get("text") or "")]
        refused = [m for m in found.values() if "too many photos" in (m.get("text") or "")]
        queued = [t for t in texts if "in the queue" in t]
        positions = [int(x) for t in queued for x in re.findall(r"number (\d+)", t)]
        first_s = [first[k] - pushed[k] for k in first]
        first_of_first = [first[k] - pushed[k] for k in first if k[1] == 0]
        review_s = [review[k] - pushed[k] for k in review]
        errors = [t for t in texts if "went wrong" in t or "too long" in t]
        calls = len(fake.calls())
        if args.debug:
            for c in fake.calls():
                print(c.method, c.status, {k: str(v)[:90] for k, v in c.params.items()})
        await bot.stop()
        log = bot.log()

    limit_mb = fly_memory_mb()
    rows = [
        ("users × photos", f"{args.users} × {args.photos} = {total}"),
        ("database", url.split(":", 1)[0]),
        ("OCR_WORKERS / OCR_QUEUE_LIMIT", f"{args.ocr_workers} / {args.queue_limit or 'default'}"),
        ("photos answered exactly once", f"{answered_once}/{total}"),
        ("lost (no answer / still 'Reading')", str(total - answered_once)),
        ("extra messages (duplicates)", str(extra)),
        ("answers that are reviews", f"{len(reviews)}/{total}"),
        ("answers 'busy, send again later'", f"{len(refused)}/{total}"),
        ("'queued, number N' notices (max N)", f"{len(queued)} (max {max(positions, default=0)})"),
        ("error answers (went wrong / too long)", str(len(errors))),
        ("first answer p50 / p95 / max (s)",
         f"{pct(first_s, .5):.2f} / {pct(first_s, .95):.2f} / {max(first_s, default=0):.2f}"),
        ("  … of each user's first photo", f"{pct(first_of_first, .5):.2f} / "
         f"{pct(first_of_first, .95):.2f} / {max(first_of_first, default=0):.2f}"),
        ("review p50 / p95 / max (s)",
         f"{pct(review_s, .5):.2f} / {pct(review_s, .95):.2f} / {max(review_s, default=0):.2f}"),
        ("all answered after (s)", f"{elapsed:.1f}"),
        ("throughput (photos/s)", f"{total / elapsed:.2f}"),
        ("Bot API calls", str(calls)),
        ("RSS idle → peak (VmHWM) MB", f"{base_rss / 1024:.0f} → {max(hwm, peak_rss) / 1024:.0f}"),
        ("fly.production [[vm]] memory MB", str(limit_mb)),
        ("Traceback in bot log", "yes" if "Traceback" in log else "no"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}} | value")
    print(f"{'-' * width}-|-{'-' * 30}")
    for name, value in rows:
        print(f"{name:<{width}} | {value}")
    ok = answered_once == total and extra == 0 and max(hwm, peak_rss) / 1024 < limit_mb
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--photos", type=int, default=3)
    parser.add_argument("--ocr-workers", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL")
    parser.add_argument("--queue-limit", type=int, default=None, help="OCR_QUEUE_LIMIT")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--debug", action="store_true", help="print every Bot API call")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
