"""Root fixtures: a `db` fixture that runs each test against SQLite and PostgreSQL.

PostgreSQL server, in order of preference:
1. `TEST_PG_URL` (any database on the server; the tests create their own next to it);
2. 127.0.0.1:5432 as user `postgres` (trust auth);
3. a throwaway server started with initdb/pg_ctl in a temp dir on a free port (as the
   `postgres` OS user when running as root);
otherwise the PostgreSQL variants are skipped with the reason.
Each run works in a fresh database `ji_test_<random>` dropped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url, text
from tests.support import free_port

from just_ingredients.storage import Database, upgrade

TABLES = ("ingredients", "drafts", "recipes", "ocr_entries", "processed_updates",
          "callback_keys", "users")  # fmt: skip


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _libpq(url: str) -> str:
    """A SQLAlchemy or libpq URL as a libpq conninfo URL."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _can_connect(conninfo: str) -> bool:
    try:
        with psycopg.connect(conninfo, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _pg_bin(name: str) -> str | None:
    candidates = [shutil.which(name), f"/usr/local/bin/{name}"]
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


class _OwnServer:
    """A PostgreSQL cluster in a temp dir, for machines without a running server."""

    def __init__(self) -> None:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not (initdb and pg_ctl):
            raise RuntimeError("no PostgreSQL server reachable and no initdb/pg_ctl found")
        self.pg_ctl = pg_ctl
        self.dir = Path(tempfile.mkdtemp(prefix="ji-pg-"))
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("su") is None:
                raise RuntimeError("running as root and `su` is missing: initdb refuses root")
            shutil.chown(self.dir, user="postgres")
        data = self.dir / "data"
        self._run([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run([pg_ctl, "-D", str(data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start"])
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, argv: list[str]) -> None:
        if os.geteuid() == 0:
            import shlex

            argv = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run([self.pg_ctl, "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A libpq URL of a PostgreSQL server where the tests may create databases."""
    override = os.environ.get("TEST_PG_URL")
    if override:
        conninfo = _libpq(override)
        if not _can_connect(conninfo):
            pytest.skip("PostgreSQL tests skipped: TEST_PG_URL is set but not reachable")
        yield conninfo
        return
    default = "postgresql://postgres@127.0.0.1:5432/postgres"
    if _port_open("127.0.0.1", 5432) and _can_connect(default):
        yield default
        return
    try:
        server = _OwnServer()
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"PostgreSQL tests skipped: no server on 127.0.0.1:5432 and {error}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def make_pg_database(pg_admin_url: str) -> Iterator[Callable[[], str]]:
    """Create empty throwaway databases (`ji_test_<random>`), all dropped at the end."""
    created: list[str] = []

    def make() -> str:
        name = f"ji_test_{secrets.token_hex(6)}"
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return str(make_url(pg_admin_url).set(drivername="postgresql+psycopg", database=name)
                   .render_as_string(hide_password=False))  # fmt: skip

    yield make
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def make_sqlite_database(tmp_path: Path) -> Callable[[], str]:
    counter = iter(range(1_000_000))

    def make() -> str:
        return f"sqlite+aiosqlite:///{tmp_path / f'ji-{next(counter)}.db'}"

    return make


async def _migrated(url: str) -> None:
    db = Database.from_url(url)
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def pg_url(make_pg_database: Callable[[], str]) -> str:
    url = make_pg_database()
    asyncio.run(_migrated(url))
    return url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    asyncio.run(_migrated(url))
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The URL of a migrated test database of the current backend (shared by the run)."""
    return str(request.getfixturevalue("pg_url" if backend == "postgres" else "sqlite_url"))


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, make_sqlite_database: Callable[[], str]
) -> str:
    """A fresh, empty (unmigrated) database of the current backend."""
    if backend == "postgres":
        return str(request.getfixturevalue("make_pg_database")())
    return make_sqlite_database()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A Database on a migrated schema, emptied after each test."""
    database = Database.from_url(database_url)
    try:
        yield database
    finally:
        async with database.engine.begin() as conn:
            if database.is_postgres:
                await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
            else:
                for table in (*TABLES, "recipe_search"):
                    await conn.execute(text(f"DELETE FROM {table}"))
        await database.dispose()
