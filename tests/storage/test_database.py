"""Start-up checks: the embedded SQLite migrates itself, PostgreSQL never does."""

from __future__ import annotations

import pytest

from just_ingredients.storage import (
    Database,
    DatabaseUnavailable,
    SchemaOutOfDate,
    current_revision,
    head_revision,
)


async def test_prepare_migrates_sqlite_but_never_postgres(
    empty_database_url: str, backend: str
) -> None:
    db = Database.from_url(empty_database_url)
    try:
        if backend == "sqlite":
            await db.prepare()
            assert await current_revision(db.engine) == (head_revision(),)
        else:
            with pytest.raises(SchemaOutOfDate, match="just-ingredients migrate"):
                await db.prepare()
            assert await current_revision(db.engine) == ()
            await db.migrate()
            await db.prepare()
    finally:
        await db.dispose()


async def test_unreachable_server_is_a_typed_error_without_password() -> None:
    db = Database.from_url("postgresql://ji:pa55word@127.0.0.1:9/ji")
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            await db.check_connection()
    finally:
        await db.dispose()
    message = str(caught.value)
    assert "pa55word" not in message
    assert "\n" not in message
    assert "127.0.0.1" in message
