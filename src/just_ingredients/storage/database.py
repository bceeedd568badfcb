"""`Database`: one engine, its sessions, and the start-up checks every front end runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from just_ingredients.storage import migrate
from just_ingredients.storage.engine import create_engine, is_postgres, parse_database_url, redact
from just_ingredients.storage.errors import DatabaseUnavailable
from just_ingredients.storage.repository import Repository


class Database:
    """An engine and a session factory. `transaction()` yields a Repository whose work is
    committed when the block ends and rolled back if it raises."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str | URL) -> Database:
        parsed = parse_database_url(url) if isinstance(url, str) else url
        return cls(create_engine(parsed))

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.engine)

    @property
    def display_url(self) -> str:
        return redact(self.engine.url)

    async def check_connection(self) -> None:
        """Raise DatabaseUnavailable (one line, no password) unless a trivial query works."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (DBAPIError, InterfaceError, OSError) as error:
            raise DatabaseUnavailable(
                f"cannot connect to the database at {self.display_url}: {_reason(error, self)}"
            ) from None

    async def prepare(self, *, auto_migrate_sqlite: bool = True) -> None:
        """Start-up check: reachable, and schema at head. The embedded SQLite database
        migrates itself (first run just works); PostgreSQL never does: it raises
        SchemaOutOfDate naming `just-ingredients migrate`."""
        await self.check_connection()
        if auto_migrate_sqlite and not self.is_postgres:
            await migrate.upgrade(self.engine)
        await migrate.ensure_schema_at_head(self.engine)

    async def migrate(self) -> None:
        await self.check_connection()
        await migrate.upgrade(self.engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repository]:
        async with self.sessions() as session, session.begin():
            yield Repository(session)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def _reason(error: BaseException, db: Database) -> str:
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    reason = lines[0] if lines else type(original).__name__
    password = db.engine.url.password
    if password:
        reason = reason.replace(str(password), "***")
    return reason
