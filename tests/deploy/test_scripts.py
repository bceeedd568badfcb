"""deploy/scripts/deploy.sh and secrets.sh against a stand-in `fly` that records its calls."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "deploy" / "scripts"
STUB_BIN = Path(__file__).resolve().parent / "bin"

STAGING_TOKEN = "111111:staging-token-AAAAAAAAAAAAAAAAAAAAAAAA"
PRODUCTION_TOKEN = "222222:production-token-BBBBBBBBBBBBBBBBBBBB"


class Fly:
    """Runs a script with the stand-in `fly` first on PATH; reads back what it recorded."""

    def __init__(self, tmp_path: Path) -> None:
        self.log = tmp_path / "fly.log"
        self.stdin_log = tmp_path / "fly.stdin"
        self.tmp = tmp_path

    def run(
        self, script: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("STAGING_", "PRODUCTION_", "JI_", "FLY"))
        }
        return subprocess.run(
            ["bash", str(SCRIPTS / script), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=self.tmp,
            env={
                **base,
                "PATH": f"{STUB_BIN}{os.pathsep}{os.environ['PATH']}",
                "FLY_LOG": str(self.log),
                "FLY_STDIN_LOG": str(self.stdin_log),
                "JI_SMOKE_CMD": "true",
                "JI_ALERT_CMD": f"{self.tmp / 'alert.sh'}",
                **(env or {}),
            },
        )

    @property
    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    @property
    def stdin(self) -> str:
        return self.stdin_log.read_text() if self.stdin_log.exists() else ""

    @property
    def alerts(self) -> list[str]:
        path = self.tmp / "alerts.log"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def fly(tmp_path: Path) -> Fly:
    alert = tmp_path / "alert.sh"
    alert.write_text(f'#!/bin/sh\necho "$*" >> {tmp_path / "alerts.log"}\n')
    alert.chmod(0o755)
    return Fly(tmp_path)


def test_stand_in_fly_records_and_fails_on_request(fly: Fly, tmp_path: Path) -> None:
    env = {**os.environ, "FLY_LOG": str(fly.log), "FLY_FAIL": "deploy --config x"}
    stub = str(STUB_BIN / "fly")
    assert subprocess.run([stub, "status"], env=env, check=False).returncode == 0
    assert subprocess.run([stub, "deploy", "--config", "x"], env=env, check=False).returncode == 1
    assert fly.calls == ["status", "deploy --config x"]


# ---------------------------------------------------------------------------- deploy.sh


def test_deploy_order_staging_then_production(fly: Fly) -> None:
    smoke_log = fly.tmp / "smoke.log"
    smoke = fly.tmp / "smoke.sh"
    smoke.write_text(f'#!/bin/sh\necho "$*" >> {smoke_log}\n')
    smoke.chmod(0o755)
    result = fly.run("deploy.sh", "--skip-gates", "deploy", env={"JI_SMOKE_CMD": str(smoke)})
    assert result.returncode == 0, result.stderr
    assert fly.calls == [
        "image show --app just-ingredients-staging --json",
        "deploy . --config deploy/fly.staging.toml --app just-ingredients-staging "
        "--dockerfile deploy/Dockerfile --remote-only",
        "image show --app just-ingredients --json",
        "deploy . --config deploy/fly.production.toml --app just-ingredients "
        "--dockerfile deploy/Dockerfile --remote-only --strategy bluegreen",
    ]
    smokes = smoke_log.read_text().splitlines()
    assert len(smokes) == 2
    assert smokes[0].startswith("--base-url https://just-ingredients-staging.fly.dev --since ")
    assert smokes[1].startswith("--base-url https://just-ingredients.fly.dev --since ")
    assert fly.alerts == []


def test_deploy_smoke_gets_the_environment_token_in_env_not_argv(fly: Fly) -> None:
    smoke = fly.tmp / "smoke.sh"
    smoke.write_text(
        f'#!/bin/sh\necho "$TELEGRAM_BOT_TOKEN|$ADMIN_CHAT_ID|$*" >> {fly.tmp / "smoke.log"}\n'
    )
    smoke.chmod(0o755)
    result = fly.run(
        "deploy.sh",
        "--skip-gates",
        "deploy",
        env={
            "JI_SMOKE_CMD": str(smoke),
            "STAGING_TELEGRAM_BOT_TOKEN": STAGING_TOKEN,
            "STAGING_ADMIN_CHAT_ID": "42",
            "PRODUCTION_TELEGRAM_BOT_TOKEN": PRODUCTION_TOKEN,
        },
    )
    assert result.returncode == 0, result.stderr
    staging, production = (fly.tmp / "smoke.log").read_text().splitlines()
    assert staging.startswith(f"{STAGING_TOKEN}|42|--base-url https://just-ingredients-staging")
    assert production.startswith(f"{PRODUCTION_TOKEN}||--base-url https://just-ingredients.fly")
    assert "--http-only" not in staging
    assert STAGING_TOKEN not in result.stdout + result.stderr


def test_deploy_without_token_runs_an_http_only_smoke(fly: Fly) -> None:
    result = fly.run("deploy.sh", "--skip-gates", "--staging-only", "deploy")
    assert result.returncode == 0, result.stderr
    assert "--http-only" in result.stderr
    assert not any("fly.production.toml" in c for c in fly.calls)


def test_dry_run_prints_everything_and_calls_no_fly(fly: Fly) -> None:
    result = fly.run("deploy.sh", "--dry-run", "deploy")
    assert result.returncode == 0, result.stderr
    assert fly.calls == []
    printed = [line for line in result.stderr.splitlines() if line.startswith("+ ")]
    assert printed[:4] == [
        "+ uv run --frozen ruff format --check src tests bench samples",
        "+ uv run --frozen ruff check src tests bench samples",
        "+ uv run --frozen mypy",
        "+ uv run --frozen pytest -q",
    ]
    text = "\n".join(printed)
    assert text.index("fly.staging.toml") < text.index("--base-url https://just-ingredients-st")
    assert text.index("--base-url https://just-ingredients-st") < text.index("fly.production")
    assert "--strategy bluegreen" in text


def test_failed_staging_smoke_rolls_back_alerts_and_stops(fly: Fly) -> None:
    result = fly.run("deploy.sh", "--skip-gates", "deploy", env={"JI_SMOKE_CMD": "false"})
    assert result.returncode == 1
    assert fly.calls == [
        "image show --app just-ingredients-staging --json",
        "deploy . --config deploy/fly.staging.toml --app just-ingredients-staging "
        "--dockerfile deploy/Dockerfile --remote-only",
        "deploy --config deploy/fly.staging.toml --app just-ingredients-staging "
        "--image registry.fly.io/just-ingredients-staging:deployment-old",
    ]
    assert len(fly.alerts) == 1
    assert "staging smoke failed" in fly.alerts[0]
    assert "deployment-old" in fly.alerts[0]


def test_failed_production_smoke_rolls_production_back(fly: Fly) -> None:
    smoke = fly.tmp / "smoke.sh"  # passes for staging, fails for production
    smoke.write_text('#!/bin/sh\ncase "$*" in *staging*) exit 0;; *) exit 1;; esac\n')
    smoke.chmod(0o755)
    result = fly.run("deploy.sh", "--skip-gates", "deploy", env={"JI_SMOKE_CMD": str(smoke)})
    assert result.returncode == 1
    assert fly.calls[-1] == (
        "deploy --config deploy/fly.production.toml --app just-ingredients "
        "--image registry.fly.io/just-ingredients:deployment-old"
    )
    assert ["production smoke failed" in a for a in fly.alerts] == [True]


def test_failed_fly_deploy_alerts_without_smoke(fly: Fly) -> None:
    result = fly.run(
        "deploy.sh",
        "--skip-gates",
        "deploy",
        env={"FLY_FAIL": "deploy . --config deploy/fly.staging.toml", "JI_SMOKE_CMD": "false"},
    )
    assert result.returncode == 1
    assert not any("--image" in c for c in fly.calls)
    assert len(fly.alerts) == 1
    assert "deploy of just-ingredients-staging failed" in fly.alerts[0]


def test_rollback_without_previous_image_alerts_loudly(fly: Fly) -> None:
    result = fly.run(
        "deploy.sh",
        "--skip-gates",
        "deploy",
        env={"JI_SMOKE_CMD": "false", "FLY_IMAGE_JSON": "[]"},
    )
    assert result.returncode == 1
    assert "ROLLBACK FAILED" in fly.alerts[0]


def test_rollback_command_uses_the_previous_release(fly: Fly) -> None:
    result = fly.run("deploy.sh", "rollback", "production")
    assert result.returncode == 0, result.stderr
    assert fly.calls == [
        "releases --app just-ingredients --json",
        "deploy --config deploy/fly.production.toml --app just-ingredients "
        "--image registry.fly.io/just-ingredients:deployment-old",
    ]
    explicit = fly.run("deploy.sh", "rollback", "staging", "registry.fly.io/x:y")
    assert explicit.returncode == 0
    assert fly.calls[-1].endswith("--image registry.fly.io/x:y")


def test_provision_creates_only_what_is_missing(fly: Fly) -> None:
    apps = '[{"Name": "just-ingredients-staging"}, {"Name": "just-ingredients-staging-db"}]'
    result = fly.run(
        "deploy.sh",
        "provision",
        env={"FLY_APPS_JSON": apps, "FLY_SECRETS_JSON": '[{"Name": "DATABASE_URL"}]'},
    )
    assert result.returncode == 0, result.stderr
    calls = fly.calls
    assert calls[0] == "apps list --json"
    assert not any(c.startswith("apps create just-ingredients-staging") for c in calls)
    assert "apps create just-ingredients --org personal" in calls
    [create] = [c for c in calls if c.startswith("postgres create")]
    assert "--name just-ingredients-db" in create
    assert "--volume-size 1" in create
    assert "--region cdg" in create
    assert not any(c.startswith("postgres attach") for c in calls)  # DATABASE_URL exists


def test_provision_attaches_when_database_url_is_missing(fly: Fly) -> None:
    result = fly.run("deploy.sh", "provision")
    assert result.returncode == 0, result.stderr
    attaches = [c for c in fly.calls if c.startswith("postgres attach")]
    assert attaches == [
        "postgres attach just-ingredients-staging-db --app just-ingredients-staging",
        "postgres attach just-ingredients-db --app just-ingredients",
    ]


def test_provision_dry_run_calls_no_fly(fly: Fly) -> None:
    result = fly.run("deploy.sh", "--dry-run", "provision")
    assert result.returncode == 0, result.stderr
    assert fly.calls == []
    assert "+ fly postgres create --name just-ingredients-db" in result.stderr


# --------------------------------------------------------------------------- secrets.sh


def test_secrets_go_through_stdin_never_argv(fly: Fly) -> None:
    result = fly.run(
        "secrets.sh",
        "staging",
        "--stage",
        env={
            "STAGING_TELEGRAM_BOT_TOKEN": STAGING_TOKEN,
            "STAGING_DATABASE_URL": "postgres://u:pw-secret@db.internal:5432/ji",
            "STAGING_ADMIN_CHAT_ID": "42",
            "STAGING_WEBHOOK_SECRET": "hook-secret-value",
        },
    )
    assert result.returncode == 0, result.stderr
    assert fly.calls == ["secrets import --app just-ingredients-staging --stage"]
    for value in (STAGING_TOKEN, "pw-secret", "hook-secret-value"):
        assert value not in fly.log.read_text()
        assert value not in result.stdout + result.stderr
    assert fly.stdin.splitlines() == [
        f"TELEGRAM_BOT_TOKEN={STAGING_TOKEN}",
        "WEBHOOK_SECRET=hook-secret-value",
        "DATABASE_URL=postgres://u:pw-secret@db.internal:5432/ji",
        "ADMIN_CHAT_ID=42",
        "--",
    ]


def test_secrets_refuse_a_shared_bot_token(fly: Fly) -> None:
    result = fly.run(
        "secrets.sh",
        "production",
        env={
            "STAGING_TELEGRAM_BOT_TOKEN": STAGING_TOKEN,
            "PRODUCTION_TELEGRAM_BOT_TOKEN": STAGING_TOKEN,
        },
    )
    assert result.returncode == 3
    assert "same bot token" in result.stderr
    assert fly.calls == []
    assert STAGING_TOKEN not in result.stdout + result.stderr


def test_secrets_refuse_a_shared_token_found_in_the_env_file(fly: Fly) -> None:
    env_file = fly.tmp / "fly.env"
    env_file.write_text(f"PRODUCTION_TELEGRAM_BOT_TOKEN={STAGING_TOKEN}\n")
    result = fly.run(
        "secrets.sh",
        "staging",
        "--env-file",
        str(env_file),
        env={"STAGING_TELEGRAM_BOT_TOKEN": STAGING_TOKEN},
    )
    assert result.returncode == 3
    assert fly.calls == []


def test_secrets_from_env_file_generate_and_keep_the_webhook_secret(fly: Fly) -> None:
    env_file = fly.tmp / "production.env"
    env_file.write_text(
        f'# production bot\nTELEGRAM_BOT_TOKEN="{PRODUCTION_TOKEN}"\nexport ADMIN_CHAT_ID=7\n'
    )
    result = fly.run("secrets.sh", "production", "--env-file", str(env_file))
    assert result.returncode == 0, result.stderr
    assert fly.calls == ["secrets import --app just-ingredients"]
    lines = dict(line.split("=", 1) for line in fly.stdin.splitlines() if "=" in line)
    assert lines["TELEGRAM_BOT_TOKEN"] == PRODUCTION_TOKEN
    assert lines["ADMIN_CHAT_ID"] == "7"
    generated = lines["WEBHOOK_SECRET"]
    assert len(generated) >= 32
    assert set(generated) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    assert f"PRODUCTION_WEBHOOK_SECRET={generated}" in env_file.read_text()
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert generated not in result.stdout + result.stderr


def test_secrets_dry_run_names_without_values(fly: Fly) -> None:
    result = fly.run(
        "secrets.sh", "staging", "--dry-run", env={"STAGING_TELEGRAM_BOT_TOKEN": STAGING_TOKEN}
    )
    assert result.returncode == 0, result.stderr
    assert fly.calls == []
    assert "TELEGRAM_BOT_TOKEN=***" in result.stdout
    assert STAGING_TOKEN not in result.stdout + result.stderr


def test_secrets_need_a_token(fly: Fly) -> None:
    result = fly.run("secrets.sh", "staging")
    assert result.returncode == 2
    assert "STAGING_TELEGRAM_BOT_TOKEN" in result.stderr
    assert fly.calls == []


@pytest.mark.parametrize("script", ["deploy.sh", "secrets.sh", "build-image.sh"])
def test_scripts_pass_shellcheck(script: str) -> None:
    import shutil

    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    result = subprocess.run(
        ["shellcheck", "-S", "info", str(SCRIPTS / script)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_production_only_skips_staging(fly: Fly) -> None:
    result = fly.run("deploy.sh", "--skip-gates", "--production-only", "deploy")
    assert result.returncode == 0, result.stderr
    assert not any("staging" in c for c in fly.calls)
    assert fly.calls[-1].startswith("deploy . --config deploy/fly.production.toml")
