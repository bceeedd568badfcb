"""Secret redaction and the log line formats."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from just_ingredients import observability
from just_ingredients.observability import Redactor, create_metrics, setup_logging

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    secrets = list(observability.REDACTOR._secrets)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    observability.REDACTOR._secrets = secrets


def test_redacts_a_bot_token_inside_an_api_url() -> None:
    error = ConnectionError(f"GET https://api.telegram.org/bot{TOKEN}/getMe failed")
    text = Redactor()(str(error))
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ" not in text
    assert "https://api.telegram.org/bot[REDACTED]/getMe failed" in text


def test_redacts_a_url_password() -> None:
    text = Redactor()("cannot connect to postgresql://ji_user:p4ss%40word@db.internal:5432/ji")
    assert "p4ss" not in text
    assert "postgresql://ji_user:[REDACTED]@db.internal:5432/ji" in text
    raw_at = Redactor()("postgres://u:p@ss@host/db and redis://r:pw2@cache:6379/0")
    assert raw_at == "postgres://u:[REDACTED]@host/db and redis://r:[REDACTED]@cache:6379/0"


def test_redacts_explicit_secrets_and_ignores_tiny_ones() -> None:
    redact = Redactor(["webhook-secret-value", "ab"])
    redact.add("another-secret")
    redact.add(None)
    text = redact("secret=webhook-secret-value other=another-secret short=ab")
    assert text == "secret=[REDACTED] other=[REDACTED] short=ab"


def _emit(capsys: pytest.CaptureFixture[str], fmt: str) -> list[str]:
    setup_logging("DEBUG", fmt, secrets=["s3cret-webhook-token"])
    log = logging.getLogger("just_ingredients.test")
    log.info("update handled", extra={"update_id": 77, "user_id": 4242})
    log.warning("secret s3cret-webhook-token and url https://api.telegram.org/bot%s/x", TOKEN)
    try:
        raise RuntimeError(f"boom bot{TOKEN}")
    except RuntimeError:
        log.exception("handler failed", extra={"update_id": 78})
    return capsys.readouterr().err.splitlines()


@pytest.mark.usefixtures("restore_logging")
def test_json_mode_emits_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _emit(capsys, "json")
    records = [json.loads(line) for line in lines]  # every line is one valid JSON object
    assert len(records) == 3
    first = records[0]
    assert first["event"] == "update handled"
    assert first["level"] == "info"
    assert first["update_id"] == 77
    assert first["user_id"] == 4242
    assert first["ts"].endswith("+00:00")
    assert records[2]["update_id"] == 78
    assert "RuntimeError" in records[2]["exc"]
    whole = "\n".join(lines)
    assert "s3cret-webhook-token" not in whole
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ" not in whole


@pytest.mark.usefixtures("restore_logging")
def test_pretty_mode_is_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _emit(capsys, "pretty")
    assert "update handled" in lines[0]
    assert "update_id=77" in lines[0]
    whole = "\n".join(lines)
    assert "s3cret-webhook-token" not in whole
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ" not in whole


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = create_metrics(process_collector=False), create_metrics()
    first.recipes_saved.inc()
    assert b"ji_recipes_saved_total 1.0" in first.exposition()
    assert b"ji_recipes_saved_total 0.0" in second.exposition()
