"""The real `just-ingredients scan` command: real Tesseract on the bundled sample photos."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "samples" / "photos"


def run_cli(*args: str, db: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "just_ingredients", *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "COLUMNS": "160",
            "OMP_THREAD_LIMIT": "1",
            "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            **env,
        },
        timeout=120,
        check=False,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "scan.db"


def amounts(result: dict[str, object]) -> list[tuple[float | None, str | None]]:
    ingredients = result["ingredients"]
    assert isinstance(ingredients, list)
    return [(i["quantity"], i["unit"]) for i in ingredients if i["quantity"] is not None]


def test_scan_json_reads_fractions_units_and_names(db: Path) -> None:
    proc = run_cli("scan", "--json", str(PHOTOS / "pancakes_en.jpg"), db=db)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result) == {"source", "lang", "title", "text", "ingredients"}
    assert result["lang"] == "en"
    # what the photo shows (samples/make_photos.py), not what the program printed
    assert amounts(result) == [
        (1.5, "cup"),
        (3.5, "tsp"),
        (0.25, "tsp"),
        (1, "tbsp"),
        (1.25, "cup"),
        (1, None),
        (3, "tbsp"),
    ]
    names = " | ".join(i["name"] for i in result["ingredients"])
    for name in ("all-purpose flour", "baking powder", "milk", "butter"):
        assert name in names
    for ingredient in result["ingredients"]:
        assert len(ingredient["bbox"]) == 4
        assert 0 <= ingredient["confidence"] <= 1


def test_scan_french_photo_and_save(db: Path) -> None:
    proc = run_cli("scan", "--json", "--save", "--user", "7", str(PHOTOS / "crepes_fr.jpg"), db=db)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["lang"] == "fr"
    assert amounts(result) == [
        (250, "g"),
        (4, None),
        (0.5, "l"),
        (2, "tbsp"),
        (1, "pinch"),
        (50, "g"),
    ]
    assert "saved" in proc.stderr
    listing = run_cli("recipes", "list", "--user", "7", "--json", db=db)
    assert listing.returncode == 0, listing.stderr
    page = json.loads(listing.stdout)
    assert page["total"] == 1
    assert page["items"][0]["ingredient_count"] == len(result["ingredients"])
    # nobody else sees it
    other = run_cli("recipes", "list", "--user", "8", "--json", db=db)
    assert json.loads(other.stdout)["total"] == 0


def test_second_scan_of_the_same_bytes_is_served_from_the_cache(db: Path) -> None:
    photo = str(PHOTOS / "quiche_fr.jpg")
    first = run_cli("scan", "--json", photo, db=db)
    second = run_cli("scan", "--json", photo, db=db)
    assert first.returncode == second.returncode == 0
    assert json.loads(first.stdout) == json.loads(second.stdout)
    import sqlite3

    with sqlite3.connect(db) as conn:
        (count,) = conn.execute("select count(*) from ocr_entries").fetchone()
    assert count == 1


def test_bad_files_get_a_clear_message_and_the_others_still_scan(db: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("not an image at all")
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes((PHOTOS / "crepes_fr.jpg").read_bytes()[:3000])
    proc = run_cli(
        "scan",
        "--json",
        str(empty),
        str(text),
        str(truncated),
        str(PHOTOS / "crepes_fr.jpg"),
        db=db,
    )
    assert proc.returncode == 1
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["source"] for line in lines] == [
        str(empty),
        str(text),
        str(truncated),
        str(PHOTOS / "crepes_fr.jpg"),
    ]
    assert "empty" in lines[0]["error"]
    assert "isn't supported" in lines[1]["error"]
    assert "damaged or incomplete" in lines[2]["error"]
    assert lines[3]["ingredients"]


def test_file_over_the_size_limit_is_refused_before_reading(db: Path) -> None:
    proc = run_cli("scan", str(PHOTOS / "crepes_fr.jpg"), db=db, MAX_IMAGE_BYTES="1000")
    assert proc.returncode == 1
    assert "too big" in proc.stderr


def test_save_needs_a_user(db: Path) -> None:
    proc = run_cli("scan", "--save", str(PHOTOS / "crepes_fr.jpg"), db=db)
    assert proc.returncode == 2
    assert "--user" in proc.stderr
