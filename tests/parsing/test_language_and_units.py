"""detect_language and the units data file."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from just_ingredients.parsing import UNIT_CODES, canonical_unit, detect_language, unit_description

DESIGN_CODES = [
    "mg",
    "g",
    "kg",
    "oz",
    "lb",
    "ml",
    "cl",
    "dl",
    "l",
    "tsp",
    "tbsp",
    "cup",
    "floz",
    "pint",
    "quart",
    "gallon",
    "pinch",
    "dash",
    "drop",
    "clove",
    "slice",
    "can",
    "jar",
    "bottle",
    "packet",
    "sachet",
    "bag",
    "stick",
    "piece",
    "bunch",
    "sprig",
    "leaf",
    "handful",
    "knob",
    "cube",
    "sheet",
    "bar",
    "fillet",
    "stalk",
    "pod",
    "head",
    "glass",
]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("250 g de farine", "fr"),
        ("2 cups flour", "en"),
        ("3 œufs", "fr"),
        ("1 tbsp olive oil", "en"),
        ("sel, poivre", "fr"),
        ("Salt and pepper", "en"),
        ("1 c. à soupe d'huile", "fr"),
        ("", "en"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_every_design_code_is_in_the_data_file_with_a_description() -> None:
    for code in DESIGN_CODES:
        assert code in UNIT_CODES
        assert unit_description(code)


def test_data_file_is_valid_toml_with_a_description_per_code() -> None:
    text = resources.files("just_ingredients.parsing").joinpath("units.toml").read_text("utf-8")
    data = tomllib.loads(text)
    for code, spec in data.items():
        if code != "context":
            assert spec["description"].strip()
    for rule in data["context"]:
        assert rule["code"] == "" or rule["code"] in UNIT_CODES


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("tablespoon", "tbsp"),
        ("Tablespoons", "tbsp"),
        ("T", "tbsp"),
        ("t", "tsp"),
        ("cuillères à soupe", "tbsp"),
        ("c. à c.", "tsp"),
        ("fl. oz.", "floz"),
        ("pound", "lb"),
        ("envelope", "packet"),
        ("onion", None),
    ],
)
def test_canonical_unit(word: str, code: str | None) -> None:
    assert canonical_unit(word) == code
