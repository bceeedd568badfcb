"""The real `just-ingredients parse` command, run as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "just_ingredients", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_json_output_has_the_design_shape() -> None:
    proc = run_cli("parse", "--json", "1/2 litre de lait")
    assert proc.returncode == 0, proc.stderr
    obj = json.loads(proc.stdout)
    assert set(obj) >= {"source", "lang", "title", "text", "ingredients"}
    assert obj["lang"] == "fr"
    assert obj["text"] == "1/2 litre de lait"
    [ing] = obj["ingredients"]
    assert ing["quantity"] == 0.5
    assert ing["quantity_max"] is None
    assert ing["unit"] == "l"
    assert ing["unit_text"] == "litre"
    assert ing["name"] == "lait"
    assert ing["raw"] == "1/2 litre de lait"
    assert 0 <= ing["confidence"] <= 1


def test_one_json_object_per_input_and_stdin() -> None:
    proc = run_cli("parse", "--json", "2 cups flour", "-", stdin="3 œufs\nsel, poivre\n")
    assert proc.returncode == 0, proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert first["ingredients"][0]["unit"] == "cup"
    assert second["source"] == "stdin"
    names = [i["name"] for i in second["ingredients"]]
    assert names[0] == "œufs"
    assert second["ingredients"][0]["quantity"] == 3


def test_lang_option_overrides_detection() -> None:
    proc = run_cli("parse", "--json", "--lang", "en", "250 g de farine")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["lang"] == "en"


def test_table_output_lists_each_ingredient() -> None:
    sample = (ROOT / "samples" / "ingredients.txt").read_text(encoding="utf-8")
    proc = run_cli("parse", "-", stdin=sample)
    assert proc.returncode == 0, proc.stderr
    for word in ("flour", "fraises", "crème fraîche", "butter"):
        assert word in proc.stdout
    assert "Préchauffer" not in proc.stdout


def test_text_without_ingredients_says_so() -> None:
    proc = run_cli("parse", "Préchauffer le four à 180 °C.")
    assert proc.returncode == 0
    assert "no ingredient found" in proc.stderr


def test_bad_lang_is_a_usage_error() -> None:
    proc = run_cli("parse", "--lang", "de", "1 egg")
    assert proc.returncode == 2
    assert "de" in proc.stderr
