import pytest

from just_ingredients.storage import InvalidDatabaseUrl, parse_database_url
from just_ingredients.storage.engine import redact


@pytest.mark.parametrize(
    ("raw", "driver"),
    [
        ("postgres://u:p@db.internal:5432/app", "postgresql+psycopg"),
        ("postgresql://u:p@db/app?sslmode=require", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/app", "postgresql+psycopg"),
        ("sqlite+aiosqlite:///./x.db", "sqlite+aiosqlite"),
        ("sqlite:///tmp/x.db", "sqlite+aiosqlite"),
    ],
)
def test_accepted_urls_map_to_async_drivers(raw: str, driver: str) -> None:
    assert parse_database_url(raw).drivername == driver


def test_sslmode_is_kept() -> None:
    url = parse_database_url("postgresql://u:p@db/app?sslmode=require")
    assert url.query["sslmode"] == "require"


@pytest.mark.parametrize(
    "raw", ["not a url", "mysql://u:secret@h/db", "postgresql://u:secret@h/", ""]
)
def test_bad_urls_raise_a_clear_error_without_the_password(raw: str) -> None:
    with pytest.raises(InvalidDatabaseUrl) as caught:
        parse_database_url(raw)
    assert "secret" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_redact_hides_the_password() -> None:
    assert "secret" not in redact(parse_database_url("postgres://u:secret@h/db"))
