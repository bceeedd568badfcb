"""Reliability harness: the REAL bot process (`python -m just_ingredients bot`, started by
tests/botproc's BotProcess) against the fake Bot API, reusing tests/bot's Chat and
tests/operations' throwaway PostgreSQL cluster. Every bot started here has its whole
output (stdout+stderr) captured and grepped at teardown for every secret it was given (bot
token, webhook secret, database password): a secret in any log line fails the test that
produced it."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.botproc import WEBHOOK_SECRET, BotProcess, bot_factory
from tests.botproc import fake as fake  # the fixture
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.operations.conftest import ThrowawayCluster, migrate

from just_ingredients.domain import Lang
from just_ingredients.i18n import translate

__all__ = ["DB_PASSWORD", "SECRETS", "assert_no_secret", "pg_with_password", "recipes_of", "tr"]


def tr(lang: str, key: str, **kwargs: object) -> str:
    """The localised text of ``key`` (``lang`` as the tests spell it: "en", "fr", "fr-FR")."""
    code: Lang = "fr" if lang.startswith("fr") else "en"
    return translate(code, key, **kwargs)


#: a password put in every PostgreSQL URL of this suite (trust auth ignores it, so only the
#: logs can tell whether it leaks)
DB_PASSWORD = "Pg-pa55word-NEVER-logged"
SECRETS = (DEFAULT_TOKEN, WEBHOOK_SECRET, DB_PASSWORD)


def assert_no_secret(log: str, where: str = "bot log") -> None:
    # the token's secret half alone must not leak either (e.g. in a URL path)
    needles = [*SECRETS, DEFAULT_TOKEN.split(":", 1)[1]]
    leaked = [s for s in needles if s in log]
    lines = [line for line in log.splitlines() if any(s in line for s in leaked)]
    assert not leaked, f"secret(s) in the {where}: {lines[:3]}"


@pytest.fixture
async def make_bot(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[Callable[..., BotProcess]]:
    """`make_bot(mode="webhook", database_url=None, **env)`; logs checked for secrets."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    async with bot_factory(fake, tmp_path, "webhook", url) as (make, made):
        yield make
    for bot in made:
        assert_no_secret(bot.log())


def pg_with_password(cluster: ThrowawayCluster) -> str:
    return cluster.url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)


@pytest.fixture
def pg_cluster() -> Iterator[ThrowawayCluster]:
    try:
        cluster = ThrowawayCluster()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"no throwaway PostgreSQL cluster: {exc}")
    try:
        migrate(pg_with_password(cluster))
        yield cluster
    finally:
        cluster.destroy()


def recipes_of(db_file: Path, telegram_id: int) -> list[tuple[Any, ...]]:
    """Everything stored for the user's recipes (rows of recipes ⟗ ingredients), for
    before/after comparisons."""
    with sqlite3.connect(db_file) as conn:
        return conn.execute(
            "SELECT r.id, r.name, r.lang, r.updated_at, i.position, i.quantity, i.unit, "
            "i.name, i.raw FROM recipes r JOIN users u ON u.id = r.user_id "
            "LEFT JOIN ingredients i ON i.recipe_id = r.id WHERE u.telegram_id = ? "
            "ORDER BY r.id, i.position",
            (telegram_id,),
        ).fetchall()
