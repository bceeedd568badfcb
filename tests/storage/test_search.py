"""Search: English and French, accent- and ligature-insensitive, ranked, paginated."""

from __future__ import annotations

import pytest

from just_ingredients.domain import Ingredient, Lang
from just_ingredients.storage import Database, fold

OWNER = 2002


def _i(name: str) -> Ingredient:
    return Ingredient(raw=name, name=name)


@pytest.fixture
async def recipes(db: Database) -> dict[str, int]:
    data: list[tuple[str, Lang, list[str]]] = [
        ("Tarte aux poireaux", "fr", ["crème fraîche", "œufs", "poireaux"]),
        ("Tomato salad", "en", ["tomatoes", "olive oil", "basil"]),
        ("Sauce tomate", "fr", ["tomate", "ail", "huile d'olive"]),
        ("Pancakes", "en", ["flour", "eggs", "milk"]),
        ("Crème brûlée", "fr", ["crème", "sucre", "jaunes d'œufs"]),
    ]
    ids = {}
    async with db.transaction() as repo:
        for name, lang, names in data:
            ids[name] = (await repo.add_recipe(OWNER, name, [_i(n) for n in names], lang)).id
    return ids


async def _names(db: Database, query: str) -> list[str]:
    async with db.transaction() as repo:
        page = await repo.search_recipes(OWNER, query)
    return [r.name for r in page.items]


def test_fold_removes_accents_and_ligatures() -> None:
    assert fold("Crème Fraîche, ŒUFS, Æble") == "creme fraiche, oeufs, aeble"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("creme", {"Tarte aux poireaux", "Crème brûlée"}),
        ("crème fraîche", {"Tarte aux poireaux"}),
        ("oeufs", {"Tarte aux poireaux", "Crème brûlée"}),
        ("œufs", {"Tarte aux poireaux", "Crème brûlée"}),
        ("tomato", {"Tomato salad"}),
        ("tomatoes", {"Tomato salad"}),
        ("tomates", {"Sauce tomate"}),
        ("EGGS milk", {"Pancakes"}),
        ("brulee", {"Crème brûlée"}),
        ("pancake", {"Pancakes"}),
    ],
)
async def test_search_finds_across_accents_ligatures_and_plurals(
    db: Database, recipes: dict[str, int], query: str, expected: set[str]
) -> None:
    assert expected <= set(await _names(db, query))
    assert "Pancakes" not in await _names(db, "creme")


async def test_name_matches_rank_first(db: Database, recipes: dict[str, int]) -> None:
    assert (await _names(db, "crème"))[0] == "Crème brûlée"


async def test_nonsense_and_query_syntax_find_nothing(
    db: Database, recipes: dict[str, int]
) -> None:
    for query in ["", "   ", '"', "zzzz", "NEAR(a b)", "tomate OR", "a:b*", "' OR 1=1 --"]:
        await _names(db, query)  # must not raise
    assert await _names(db, "zzzz") == []


async def test_search_is_paginated_with_a_total(db: Database) -> None:
    async with db.transaction() as repo:
        for n in range(7):
            await repo.add_recipe(OWNER, f"Soup {n}", [_i("carrots")])
    async with db.transaction() as repo:
        first = await repo.search_recipes(OWNER, "carrot", limit=3)
        third = await repo.search_recipes(OWNER, "carrot", limit=3, offset=6)
    assert (first.total, len(first.items), first.has_more) == (7, 3, True)
    assert (third.total, len(third.items), third.has_more) == (7, 1, False)
