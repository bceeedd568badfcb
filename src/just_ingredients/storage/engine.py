"""DATABASE_URL handling and engine creation for PostgreSQL (psycopg 3) and SQLite (aiosqlite)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from just_ingredients.storage.errors import InvalidDatabaseUrl

POSTGRES_DRIVER = "postgresql+psycopg"
SQLITE_DRIVER = "sqlite+aiosqlite"
_POSTGRES_ALIASES = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg_async"}
_SQLITE_ALIASES = {"sqlite", "sqlite+aiosqlite"}
CONNECT_TIMEOUT_SECONDS = 5


def parse_database_url(raw: str) -> URL:
    """Normalise the URL forms accepted in DATABASE_URL (DESIGN.md §3) to async drivers.

    `postgres://` and `postgresql://` (as Fly gives them, `?sslmode=` included) become
    `postgresql+psycopg://`; `sqlite:///path` becomes `sqlite+aiosqlite:///path`.
    """
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):
        raise InvalidDatabaseUrl(
            "DATABASE_URL is not a valid URL (expected postgresql://… or sqlite:///…)"
        ) from None
    driver = url.drivername.lower()
    if driver in _POSTGRES_ALIASES:
        if not url.database:
            raise InvalidDatabaseUrl("DATABASE_URL names no database (postgresql://host/NAME)")
        return url.set(drivername=POSTGRES_DRIVER)
    if driver in _SQLITE_ALIASES:
        return url.set(drivername=SQLITE_DRIVER)
    raise InvalidDatabaseUrl(
        f"DATABASE_URL scheme {url.drivername!r} is not supported "
        "(use postgresql://, postgres:// or sqlite:///)"
    )


def redact(url: URL) -> str:
    """The URL as text with the password hidden."""
    return url.render_as_string(hide_password=True)


def is_postgres(url_or_engine: URL | AsyncEngine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, AsyncEngine) else url_or_engine
    return url.get_backend_name() == "postgresql"


def create_engine(url: URL | str, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for a (normalised) database URL; SQLite gets foreign keys and WAL."""
    url = parse_database_url(url) if isinstance(url, str) else url
    if is_postgres(url):
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, connect_args=connect_args, **kwargs)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
