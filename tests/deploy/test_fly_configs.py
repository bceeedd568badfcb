"""deploy/fly.*.toml agree with the code: ports, paths, commands, sizes, timeouts."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer.main

from just_ingredients import cli
from just_ingredients.config import WEBHOOK_PATH, Settings

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = {
    "staging": (ROOT / "deploy" / "fly.staging.toml", "just-ingredients-staging"),
    "production": (ROOT / "deploy" / "fly.production.toml", "just-ingredients"),
}
#: peak RSS of the OCR path, one worker (bench/scan_speed.py); the comment in [[vm]] says so
DOCUMENTED_PEAK_MB = 200


def load(env: str) -> dict[str, Any]:
    return tomllib.loads(CONFIGS[env][0].read_text(encoding="utf-8"))


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", value)
    assert match, f"not a Fly duration: {value!r}"
    factor = {"ms": 0.001, "s": 1, "m": 60}[match.group(2)]
    return float(match.group(1)) * factor


def cli_commands() -> set[str]:
    group = typer.main.get_command(cli.app)
    return set(group.commands)  # type: ignore[attr-defined]


@pytest.fixture(params=sorted(CONFIGS))
def env(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_app_name_and_region(env: str) -> None:
    config = load(env)
    assert config["app"] == CONFIGS[env][1]
    assert config["primary_region"] == "cdg"


def test_release_command_is_migrate_and_exists(env: str) -> None:
    release = load(env)["deploy"]["release_command"]
    program, command, *_ = release.split()
    assert program == "just-ingredients"
    assert command == "migrate"
    assert command in cli_commands()


def test_strategies() -> None:
    assert load("production")["deploy"]["strategy"] == "bluegreen"
    assert load("staging")["deploy"]["strategy"] == "rolling"


def test_http_service_scales_to_zero_behind_https(env: str) -> None:
    service = load(env)["http_service"]
    assert service["internal_port"] == Settings.model_fields["health_port"].default == 8080
    assert service["force_https"] is True
    assert service["auto_stop_machines"] == "stop"
    assert service["auto_start_machines"] is True
    assert service["min_machines_running"] == 0


def test_bluegreen_has_readiness_checks_on_the_web_path(env: str) -> None:
    checks = load(env)["http_service"].get("checks", [])
    if env == "production":
        assert checks, "bluegreen needs [[http_service.checks]]"
    from just_ingredients import web

    app = web.create_public_app(web.Readiness())
    routes = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    for check in checks:
        assert check["path"] == "/health/ready"
        assert check["path"] in routes
        for key in ("grace_period", "interval", "timeout"):
            assert seconds(check[key]) > 0
        assert seconds(check["timeout"]) < seconds(check["interval"])


def test_vm_is_the_smallest_that_fits_the_benchmark(env: str) -> None:
    [vm] = load(env)["vm"]
    assert vm["size"] == "shared-cpu-1x"
    assert vm["memory"] == "256mb"
    assert int(vm["memory"].removesuffix("mb")) >= DOCUMENTED_PEAK_MB
    text = CONFIGS[env][0].read_text(encoding="utf-8")
    assert f"<= {DOCUMENTED_PEAK_MB} MB" in text
    assert "bench/scan_speed.py" in text


def test_metrics_port_and_path(env: str) -> None:
    [metrics] = load(env)["metrics"]
    assert metrics["port"] == Settings.model_fields["metrics_port"].default == 9091
    assert metrics["path"] == "/metrics"


def test_kill_timeout_lets_ocr_finish(env: str) -> None:
    config = load(env)
    assert config["kill_signal"] == "SIGTERM"
    ocr_timeout = Settings.model_fields["ocr_timeout_seconds"].default
    assert seconds(config["kill_timeout"]) > ocr_timeout
    grace = Settings.model_fields["shutdown_grace_seconds"].default
    assert ocr_timeout < grace < seconds(config["kill_timeout"])


def test_env_is_non_secret_and_matches_settings(env: str) -> None:
    values = load(env)["env"]
    secret_names = {"TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "DATABASE_URL", "ADMIN_CHAT_ID"}
    assert not secret_names & set(values)
    assert "TELEGRAM_API_URL" not in values
    assert values["LOG_FORMAT"] == "json"
    assert values["OCR_WORKERS"] == "1"
    assert int(values["HEALTH_PORT"]) == load(env)["http_service"]["internal_port"]
    assert int(values["METRICS_PORT"]) == load(env)["metrics"][0]["port"]
    assert values["WEBHOOK_URL"] == f"https://{CONFIGS[env][1]}.fly.dev{WEBHOOK_PATH}"
    # every [env] key is a real setting and parses
    settings = Settings(**{k.lower(): v for k, v in values.items()})  # type: ignore[arg-type]
    assert settings.webhook_url == values["WEBHOOK_URL"]
    assert settings.ocr_workers == 1
    for key in values:
        assert key.lower() in Settings.model_fields, key


def test_dockerfile_path_exists(env: str) -> None:
    assert (ROOT / load(env)["build"]["dockerfile"]).is_file()


def test_the_two_configs_differ_only_where_they_should() -> None:
    staging, production = load("staging"), load("production")
    for key in ("kill_signal", "kill_timeout", "http_service", "vm", "metrics", "primary_region"):
        if key == "http_service":
            assert {k: v for k, v in staging[key].items() if k != "checks"} == {
                k: v for k, v in production[key].items() if k != "checks"
            }
        else:
            assert staging[key] == production[key], key
