import pytest

from just_ingredients.config import DEFAULT_DATABASE_URL, Settings


def test_defaults_match_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DATABASE_URL", "HEALTH_PORT", "METRICS_PORT", "OCR_LANGUAGES", "LOG_FORMAT"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert s.database_url.get_secret_value() == DEFAULT_DATABASE_URL
    assert (s.health_port, s.metrics_port) == (8080, 9091)
    assert s.ocr_languages == "eng+fra"
    assert s.ocr_timeout_seconds == 30
    assert s.max_image_bytes == 20_000_000
    assert s.log_format == "pretty"


def test_secrets_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-token-value")
    monkeypatch.setenv("WEBHOOK_SECRET", "hush-hush")
    s = Settings()
    assert "SECRET-token-value" not in repr(s)
    assert "hush-hush" not in str(s)
    assert s.telegram_bot_token is not None
    assert s.telegram_bot_token.get_secret_value() == "123456:SECRET-token-value"


def test_empty_optional_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "")
    monkeypatch.setenv("ADMIN_CHAT_ID", "")
    s = Settings()
    assert s.webhook_url is None
    assert s.admin_chat_id is None


def test_bad_log_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        Settings()
