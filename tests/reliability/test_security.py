"""Issue #8, security: the webhook's secret, the public port, secrets in logs, the image's
user. (tests/bot/test_e2e_conversation.py already checks 403 for a missing/wrong secret on
a junk body; here the update is a real one and must not be processed.)"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from tests.bot.conftest import WEBHOOK_SECRET, BotProcess, Chat, review_photo
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.operations.conftest import ThrowawayCluster
from tests.reliability.conftest import DB_PASSWORD, assert_no_secret, pg_with_password

ROOT = Path(__file__).resolve().parents[2]
HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.mark.slow
async def test_webhook_refuses_bad_secrets_and_does_not_process_the_update(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    bot = make_bot()
    await bot.start()
    url = fake.webhook["url"]
    victim = 4001
    bad_headers: list[dict[str, str]] = [
        {},
        {HEADER: ""},
        {HEADER: "wrong"},
        {HEADER: WEBHOOK_SECRET.upper()},
        # (no trailing-space case: HTTP trims whitespace around header values)
        {HEADER: WEBHOOK_SECRET[:-1]},
        {HEADER: "x" * 8192},
        {"X-Telegram-Bot-Api-Secret": WEBHOOK_SECRET},  # near-miss header name
    ]
    async with aiohttp.ClientSession() as session:
        for headers in bad_headers:
            update = fake.make_text_update(victim, "/start")
            async with session.post(url, json=update, headers=headers) as response:
                # an 8 kB header is cut by aiohttp's header limit first (400): refused too
                long = any(len(v) > 4096 for v in headers.values())
                assert response.status in ((400, 403) if long else (403,)), response.status
        # the secret in the query string is not a secret header
        async with session.post(f"{url}?secret_token={WEBHOOK_SECRET}", json=update) as response:
            assert response.status == 403
        async with session.get(url, headers={HEADER: WEBHOOK_SECRET}) as response:
            assert response.status in (404, 405)
        # an over-sized body with the right secret is refused cleanly
        junk = b'{"update_id": 1, "message": {"text": "' + b"a" * 2_000_000 + b'"}}'
        async with session.post(url, data=junk, headers={HEADER: WEBHOOK_SECRET}) as response:
            assert response.status in (400, 413), response.status
    # a later, good update is handled; the refused ones never were
    chat = Chat(fake, 4002)
    await chat.send("/start")
    await chat.wait_text("Hello")
    await asyncio.sleep(0.5)
    assert not fake.sent_messages(victim)
    assert await bot.health("/health/live") == 200
    assert "bad secret" in bot.log()


@pytest.mark.slow
async def test_metrics_only_on_the_metrics_port(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    bot = make_bot()
    await bot.start()
    async with aiohttp.ClientSession() as session:
        for path in ("/metrics", "/metrics/", "/METRICS", "//metrics", "/telegram/../metrics"):
            async with session.get(f"http://127.0.0.1:{bot.health_port}{path}") as response:
                assert response.status in (404, 405), (path, response.status)
                assert "ji_updates_total" not in await response.text()
        async with session.get(f"http://127.0.0.1:{bot.metrics_port}/metrics") as response:
            assert response.status == 200
            body = await response.text()
        async with session.get(f"http://127.0.0.1:{bot.metrics_port}/health/ready") as response:
            assert response.status == 404
    assert "ji_updates_total" in body
    assert not any(s in body for s in (DEFAULT_TOKEN, WEBHOOK_SECRET))


@pytest.mark.slow
@pytest.mark.postgres
async def test_no_secret_in_debug_json_logs_under_faults(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess], pg_cluster: ThrowawayCluster
) -> None:
    """DEBUG + JSON logs (the noisiest setting), a database password in DATABASE_URL, and
    faults that log: Telegram 5xx, a failed download, bad webhook secrets, the database
    going away and coming back. The conftest's teardown greps the whole output too."""
    bot = make_bot(database_url=pg_with_password(pg_cluster), LOG_LEVEL="DEBUG",
                   LOG_FORMAT="json", ADMIN_CHAT_ID="4100")  # fmt: skip
    await bot.start()
    chat = Chat(fake, 4101)
    fake.fail_next("sendMessage", 500)
    await chat.send("/help")
    await chat.wait_text("/recipes")
    fake.fail_file_downloads(1, 500)
    await chat.photo(review_photo())
    await chat.wait_text("try again")
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.webhook["url"], json={"update_id": 5}, headers={HEADER: "no"}) as r,
    ):
        assert r.status == 403
    await asyncio.to_thread(pg_cluster.stop)
    try:
        n = chat.count()
        await chat.send("/recipes")
        await chat.wait_text("can't reach my storage", after=n)
    finally:
        await asyncio.to_thread(pg_cluster.start)
    n = chat.count()
    await chat.send("/recipes")
    await fake.wait_for(lambda: chat.count() > n, timeout=30)
    log = bot.log()
    assert '"level"' in log or '"levelname"' in log or log.lstrip().startswith("{")
    assert_no_secret(log)
    assert DB_PASSWORD not in log
    # the redaction did run: the token shape appears nowhere, even inside API URLs
    assert not re.search(r"\d{5,}:[A-Za-z0-9_-]{30,}", log)


def _runtime_user(dockerfile: str) -> str:
    stages = re.split(r"^FROM\s", dockerfile, flags=re.M)
    users = re.findall(r"^USER\s+(\S+)", stages[-1], flags=re.M)
    assert users, "the runtime stage sets no USER"
    return str(users[-1])


def test_the_container_runs_as_a_non_root_user() -> None:
    user = _runtime_user((ROOT / "deploy" / "Dockerfile").read_text("utf-8"))
    name, _, group = user.partition(":")
    assert name not in ("root", "0")
    assert group not in ("root", "0")
    if name.isdigit():
        assert int(name) >= 1000
    buildah = shutil.which("buildah")
    if buildah is None:
        return
    argv = [buildah, "inspect", "--type", "image", "localhost/just-ingredients:dev"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        return  # the image is optional (built by `make image`)
    config = json.loads(result.stdout)
    image_user = config.get("OCIv1", {}).get("config", {}).get("User", "")
    assert image_user == user, (image_user, user)
