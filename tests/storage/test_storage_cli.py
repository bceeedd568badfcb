"""The storage commands of the real CLI: happy path in-process, failures in a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from just_ingredients.cli import app
from just_ingredients.config import get_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_first_run_on_embedded_sqlite_just_works(sqlite_env: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["recipes", "list", "--user", "1", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["total"] == 0
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    assert runner.invoke(app, ["recipes", "show", "1", "--user", "1"]).exit_code == 1


def test_export_and_archive_commands(sqlite_env: Path) -> None:
    runner = CliRunner()
    target = sqlite_env / "out.md"
    result = runner.invoke(
        app, ["export", "--user", "1", "--format", "md", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert target.read_text() == ""
    archived = runner.invoke(
        app, ["archive", "--older-than", "30", "--output", str(sqlite_env / "a.jsonl")]
    )
    assert archived.exit_code == 0, archived.output
    assert "archived 0 OCR entries" in archived.stdout


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://ji:s3cr3t-pw@127.0.0.1:{port}/ji",
        "postgres://ji:s3cr3t-pw@127.0.0.1:{port}/ji?sslmode=disable",
        "mysql://ji:s3cr3t-pw@127.0.0.1:{port}/ji",
        "::not a url s3cr3t-pw",
    ],
)
def test_unreachable_or_bad_database_is_one_clear_line(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url.format(port=_closed_port()), "COLUMNS": "300"}
    result = subprocess.run(
        [sys.executable, "-m", "just_ingredients", "recipes", "list", "--user", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert "Traceback" not in result.stderr
    assert "s3cr3t-pw" not in result.stderr + result.stdout


def test_recipes_commands_on_saved_data(sqlite_env: Path) -> None:
    import asyncio

    from just_ingredients import service
    from just_ingredients.domain import Ingredient
    from just_ingredients.storage import Database

    async def seed() -> int:
        db = Database.from_url(os.environ["DATABASE_URL"])
        await db.prepare()
        try:
            eggs = Ingredient(raw="2 œufs", name="œufs", quantity=2.0)
            return (await service.save_recipe(db, 7, "Crêpes", [eggs], "fr")).id
        finally:
            await db.dispose()

    recipe_id = asyncio.run(seed())
    runner = CliRunner()
    found = runner.invoke(app, ["recipes", "search", "oeufs", "--user", "7", "--json"])
    assert [r["id"] for r in json.loads(found.stdout)["items"]] == [recipe_id]
    other = runner.invoke(app, ["recipes", "search", "oeufs", "--user", "8", "--json"])
    assert json.loads(other.stdout)["total"] == 0
    shown = runner.invoke(app, ["recipes", "show", str(recipe_id), "--user", "7", "--json"])
    assert json.loads(shown.stdout)["ingredients"][0]["name"] == "œufs"
    exported = runner.invoke(app, ["export", "--user", "7", "--format", "json"])
    assert json.loads(exported.stdout)["recipes"][0]["name"] == "Crêpes"
    assert runner.invoke(app, ["recipes", "list", "--user", "7"]).exit_code == 0
    assert runner.invoke(app, ["recipes", "delete", str(recipe_id), "--user", "8"]).exit_code == 1
    assert runner.invoke(app, ["recipes", "delete", str(recipe_id), "--user", "7"]).exit_code == 0
    listed = runner.invoke(app, ["recipes", "list", "--user", "7", "--json"])
    assert json.loads(listed.stdout)["total"] == 0
