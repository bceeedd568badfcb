"""Logging setup (pretty or JSON lines) with secret redaction, and the Prometheus metrics."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # prometheus_client is imported on first use: CLI commands start faster
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Telegram bot tokens look like 123456789:AA...; they also appear inside API URLs.
# No \b before the digits: in ".../bot123456:AA..." the "t1" is not a word boundary.
_TOKEN_RE = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
# The password runs to the last "@" before the host, so an unencoded "@" in it is covered too.
_URL_PASSWORD_RE = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+):[^\s/]+@", re.I)

#: fields of a LogRecord that are not "extra" context
_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class Redactor:
    """Removes known secrets and anything shaped like a bot token or a URL password."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "[REDACTED]")
        text = _TOKEN_RE.sub("[REDACTED]", text)
        return _URL_PASSWORD_RE.sub(r"\g<scheme>:[REDACTED]@", text)


class _RedactingFormatter(logging.Formatter):
    def __init__(self, redact: Redactor, json_mode: bool) -> None:
        super().__init__()
        self._redact = redact
        self._json = json_mode

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        extra = {k: v for k, v in record.__dict__.items() if k not in _RESERVED}
        if self._json:
            payload: dict[str, Any] = {
                "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(),
                "logger": record.name,
                "event": message,
                **extra,
            }
            if record.exc_info:
                payload["exc"] = self.formatException(record.exc_info)
            text = json.dumps(payload, default=str, ensure_ascii=False)
        else:
            ts = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
            context = " ".join(f"{k}={v}" for k, v in extra.items())
            text = f"{ts} {record.levelname:<7} {record.name}: {message}"
            if context:
                text += f"  {context}"
            if record.exc_info:
                text += "\n" + self.formatException(record.exc_info)
        return self._redact(text)


REDACTOR = Redactor()


def setup_logging(level: str = "INFO", fmt: str = "pretty", secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once: one line per event, secrets redacted everywhere."""
    for secret in secrets:
        REDACTOR.add(secret)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter(REDACTOR, json_mode=fmt == "json"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, which embeds the bot token: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)


# --------------------------------------------------------------------------- metrics

#: per-update handling time: most updates are fast, scans wait for OCR
UPDATE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
#: one OCR job: 0.1 s for a tiny crop up to the 30 s timeout
OCR_BUCKETS = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0)
#: ``ji_circuit_state`` values
CIRCUIT_STATES = {"closed": 0, "open": 1, "half_open": 2}
#: OCR failure reasons exported as 0 from the start, so rate() and alerts work before the first one
OCR_FAILURE_REASONS = ("timeout", "crash", "circuit_open")
#: what happened to webhook updates a stopped process left in the inbox (bot/inbox.py)
INBOX_TAKEOVER_OUTCOMES = ("replayed", "abandoned")


@dataclass(frozen=True)
class Metrics:
    """The process's metric objects; increment them where the event happens."""

    registry: CollectorRegistry
    updates: Counter  # ji_updates_total{kind}
    update_seconds: Histogram  # ji_update_seconds
    ocr_seconds: Histogram  # ji_ocr_seconds
    ocr_failures: Counter  # ji_ocr_failures_total{reason}
    circuit_state: Gauge  # ji_circuit_state: 0 closed, 1 open, 2 half-open
    recipes_saved: Counter  # ji_recipes_saved_total
    ingredients_extracted: Counter  # ji_ingredients_extracted_total
    db_errors: Counter  # ji_db_errors_total
    telegram_errors: Counter  # ji_telegram_errors_total{method}
    inbox_takeovers: Counter  # ji_inbox_takeovers_total{outcome}

    def set_circuit_state(self, state: str | int) -> None:
        """Accepts 0/1/2 or a state name (``closed``, ``open``, ``half_open``/``half-open``)."""
        if isinstance(state, str):
            value = CIRCUIT_STATES[str(state).lower().replace("-", "_")]
        else:
            value = int(state)
        if value not in CIRCUIT_STATES.values():
            raise ValueError(f"unknown circuit state {state!r}")
        self.circuit_state.set(value)

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def create_metrics(*, process_collector: bool = True) -> Metrics:
    """A fresh registry holding every ``ji_*`` metric (and the process collector)."""
    from prometheus_client import (
        CollectorRegistry,
        Counter,
        Gauge,
        Histogram,
        ProcessCollector,
    )

    registry = CollectorRegistry(auto_describe=True)
    if process_collector:
        ProcessCollector(registry=registry)
    metrics = Metrics(
        registry=registry,
        updates=Counter(
            "ji_updates_total", "Telegram updates received, by kind", ["kind"], registry=registry
        ),
        update_seconds=Histogram(
            "ji_update_seconds",
            "Time to handle one update",
            buckets=UPDATE_BUCKETS,
            registry=registry,
        ),
        ocr_seconds=Histogram(
            "ji_ocr_seconds", "Time of one OCR job", buckets=OCR_BUCKETS, registry=registry
        ),
        ocr_failures=Counter(
            "ji_ocr_failures_total",
            "OCR jobs that failed, by reason",
            ["reason"],
            registry=registry,
        ),
        circuit_state=Gauge(
            "ji_circuit_state",
            "OCR circuit breaker: 0 closed, 1 open, 2 half-open",
            registry=registry,
        ),
        recipes_saved=Counter("ji_recipes_saved_total", "Recipes saved", registry=registry),
        ingredients_extracted=Counter(
            "ji_ingredients_extracted_total",
            "Ingredient lines extracted from photos",
            registry=registry,
        ),
        db_errors=Counter("ji_db_errors_total", "Database errors", registry=registry),
        telegram_errors=Counter(
            "ji_telegram_errors_total",
            "Failed Telegram Bot API calls, by method",
            ["method"],
            registry=registry,
        ),
        inbox_takeovers=Counter(
            "ji_inbox_takeovers_total",
            "Webhook updates taken over from a process that stopped without finishing them",
            ["outcome"],
            registry=registry,
        ),
    )
    for reason in OCR_FAILURE_REASONS:
        metrics.ocr_failures.labels(reason=reason)
    for outcome in INBOX_TAKEOVER_OUTCOMES:
        metrics.inbox_takeovers.labels(outcome=outcome)
    return metrics


@lru_cache(maxsize=1)
def get_metrics() -> Metrics:
    """The process-wide metrics (created on first use; tests use :func:`create_metrics`)."""
    return create_metrics()
