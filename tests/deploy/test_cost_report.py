"""`just-ingredients cost-report`: the estimate from the fly configs and the database size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from just_ingredients import deploy
from just_ingredients.cli import app
from just_ingredients.config import get_settings

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = [ROOT / "deploy" / "fly.staging.toml", ROOT / "deploy" / "fly.production.toml"]
runner = CliRunner()


def run(*args: str, database_url: str) -> tuple[int, str]:
    get_settings.cache_clear()  # settings are read once per process; each run has its own env
    result = runner.invoke(
        app, ["cost-report", *args], env={"DATABASE_URL": database_url, "COLUMNS": "200"}
    )
    return result.exit_code, result.output


def report(tmp_path: Path, *args: str, database_url: str | None = None) -> dict:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}"
    configs = [a for c in CONFIGS for a in ("--configs", str(c))]
    code, output = run(*configs, "--json", *args, database_url=url)
    assert code in (0, 1), output
    return json.loads(output)


def test_real_configs_estimate(tmp_path: Path) -> None:
    data = report(tmp_path)
    staging, production = data["apps"]
    assert (staging["app"], production["app"]) == ("just-ingredients-staging", "just-ingredients")
    for a in (staging, production):
        assert (a["size"], a["memory_mb"], a["machines"]) == ("shared-cpu-1x", 256, 1)
        # auto-stop with min_machines_running = 0: the documented running-hours assumption
        assert a["hours"] == deploy.AUTOSTOP_HOURS_PER_MONTH
        expected_vm = 1.94 * deploy.AUTOSTOP_HOURS_PER_MONTH / 730
        assert a["machine_usd"] == pytest.approx(expected_vm, abs=0.01)
        assert a["postgres_usd"] == pytest.approx(1.94 + 0.15, abs=0.01)
        assert a["ipv4_usd"] == 0
    assert data["total_usd"] == pytest.approx(staging["total_usd"] + production["total_usd"])
    assert data["prices"]["date"] == deploy.PRICES_DATE
    assert "fly.io" in data["prices"]["source"]


def test_hours_and_ipv4_and_postgres_options(tmp_path: Path) -> None:
    data = report(tmp_path, "--hours", "730", "--dedicated-ipv4", "--no-postgres")
    for a in data["apps"]:
        assert a["machine_usd"] == pytest.approx(1.94)
        assert a["ipv4_usd"] == deploy.DEDICATED_IPV4_PER_MONTH
        assert a["postgres_usd"] == 0
        assert a["total_usd"] == pytest.approx(1.94 + 2.00)


def test_other_sizes_always_on_and_volume(tmp_path: Path) -> None:
    config = tmp_path / "fly.big.toml"
    config.write_text(
        'app = "big"\n'
        '[http_service]\n  internal_port = 8080\n  auto_stop_machines = "off"\n'
        "  min_machines_running = 2\n"
        '[[vm]]\n  size = "shared-cpu-2x"\n  memory = "1gb"\n'
        '[[mounts]]\n  source = "data"\n  destination = "/data"\n  initial_size = "3gb"\n'
    )
    code, output = run(
        "--configs", str(config), "--json", "--no-postgres",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
    )  # fmt: skip
    assert code == 0, output
    [big] = json.loads(output)["apps"]
    assert (big["size"], big["memory_mb"], big["machines"], big["hours"]) == (
        "shared-cpu-2x", 1024, 2, 730,
    )  # fmt: skip
    # shared-cpu-2x includes 512 MB; 512 MB more at 5 USD/GB; two machines
    assert big["machine_usd"] == pytest.approx(2 * (3.89 + 0.5 * 5.00), abs=0.01)
    assert big["volume_gb"] == 3
    assert big["volume_usd"] == pytest.approx(0.45)


def test_unknown_size_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "fly.odd.toml"
    config.write_text('app = "odd"\n[[vm]]\n  size = "gpu-a100"\n  memory = "256mb"\n')
    code, output = run("--configs", str(config), database_url="sqlite+aiosqlite:///:memory:")
    assert code == 2
    assert "unknown machine size 'gpu-a100'" in output


def test_database_under_threshold(tmp_path: Path) -> None:
    db = tmp_path / "small.db"
    db.write_bytes(b"x" * 1000)
    data = report(tmp_path, database_url=f"sqlite+aiosqlite:///{db}")
    assert data["database"]["size_bytes"] == 1000
    assert data["database"]["over_threshold"] is False
    assert data["database"]["suggestion"] is None


def test_database_over_threshold_suggests_archive(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    with db.open("wb") as fh:  # sparse: 0.9 MB against a 0.001 GB (1.07 MB) volume
        fh.truncate(900_000)
    url = f"sqlite+aiosqlite:///{db}"
    configs = [a for c in CONFIGS for a in ("--configs", str(c))]
    code, output = run(*configs, "--volume-gb", "0.001", database_url=url)
    assert code == 1
    assert "just-ingredients archive --older-than 90" in output
    code, output = run(*configs, "--volume-gb", "0.001", "--json", database_url=url)
    assert code == 1
    assert json.loads(output)["database"]["suggestion"] == deploy.ARCHIVE_SUGGESTION


def test_unreachable_database_still_estimates(tmp_path: Path) -> None:
    data = report(tmp_path, database_url="postgresql://u:p@127.0.0.1:9/none?connect_timeout=1")
    assert data["database"]["size_bytes"] is None
    assert "unreachable" in data["database"]["detail"]
    assert "p@" not in data["database"]["detail"]
    assert data["total_usd"] > 0


@pytest.mark.postgres
def test_postgres_size_is_read(pg_url: str) -> None:
    data = report(Path("."), database_url=pg_url)
    assert data["database"]["size_bytes"] > 1_000_000  # an empty migrated database is ~8 MB
    assert data["database"]["detail"].startswith("PostgreSQL ")


def test_table_output_mentions_the_price_date(tmp_path: Path) -> None:
    configs = [a for c in CONFIGS for a in ("--configs", str(c))]
    code, output = run(*configs, database_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    assert code == 0, output
    assert deploy.PRICES_DATE in output
    assert "just-ingredients-staging" in output


@pytest.mark.parametrize(
    ("text", "mb"), [("256mb", 256), ("1gb", 1024), ("2GB", 2048), ("512", 512), (384, 384)]
)
def test_parse_memory(text: str | int, mb: int) -> None:
    assert deploy.parse_memory_mb(text) == mb


def test_configs_option_takes_several_paths_as_in_the_docs(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    code, output = run("--configs", *map(str, CONFIGS), "--json", database_url=url)
    assert code == 0, output
    assert [a["app"] for a in json.loads(output)["apps"]] == [
        "just-ingredients-staging",
        "just-ingredients",
    ]
