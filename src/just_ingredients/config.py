"""Settings from the environment (DESIGN.md §3 "Environment"). The one place that reads env vars."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./just-ingredients.db"
#: path of the Telegram webhook route on HEALTH_PORT; WEBHOOK_URL must end with it
#: (deploy/fly.*.toml set WEBHOOK_URL = "https://<app>.fly.dev/telegram/webhook")
WEBHOOK_PATH = "/telegram/webhook"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    health_port: int = 8080
    metrics_port: int = 9091
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    admin_chat_id: int | None = None
    ocr_languages: str = "eng+fra"
    ocr_timeout_seconds: float = Field(default=30.0, gt=0)
    ocr_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    #: photos that may wait for a busy OCR engine (their senders see their place in the
    #: line); more are refused with "too busy, send it again in a minute"
    ocr_queue_limit: int = Field(default=20, ge=0)
    max_image_bytes: int = Field(default=20_000_000, gt=0)
    #: on SIGTERM, how long the updates in flight may take to finish; keep it under Fly's
    #: kill_timeout (45 s in deploy/fly.*.toml) and above OCR_TIMEOUT_SECONDS
    shutdown_grace_seconds: float = Field(default=35.0, ge=0)
    log_format: Literal["pretty", "json"] = "pretty"
    log_level: str = "INFO"
    #: set by Fly.io on its machines; the start-up alert names the release and image, and
    #: every alert ends with "app · machine · region" (unset elsewhere: left out)
    fly_app_name: str | None = None
    fly_machine_id: str | None = None
    fly_region: str | None = None
    fly_image_ref: str | None = None
    fly_release_version: str | None = None

    @field_validator(
        "webhook_url",
        "admin_chat_id",
        "telegram_bot_token",
        "webhook_secret",
        "fly_app_name",
        "fly_machine_id",
        "fly_region",
        "fly_image_ref",
        "fly_release_version",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
