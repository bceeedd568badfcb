"""Use cases over a real database (SQLite and PostgreSQL), including user isolation."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from just_ingredients import service
from just_ingredients.domain import DraftPage, DraftStatus, Ingredient
from just_ingredients.service import DraftNotFound, InvalidInput, RecipeNotFound
from just_ingredients.storage import Database

ALICE, BOB = 111, 222
MILK = Ingredient(raw="1/2 litre de lait", name="lait", quantity=0.5, unit="l",
                  unit_text="litre", confidence=0.93)  # fmt: skip
EGGS = Ingredient(raw="3 œufs", name="œufs", quantity=3.0)
SALT = Ingredient(raw="sel, poivre", name="sel, poivre", confidence=0.5)


async def test_save_then_get_list_search(db: Database) -> None:
    saved = await service.save_recipe(db, ALICE, "  Crêpes  ", [MILK, EGGS], "fr")
    assert saved.name == "Crêpes"
    assert (await service.get_recipe(db, ALICE, saved.id)).ingredients == (MILK, EGGS)
    assert [r.id for r in (await service.list_recipes(db, ALICE)).items] == [saved.id]
    assert [r.id for r in (await service.search_recipes(db, ALICE, "oeufs")).items] == [saved.id]


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
async def test_bad_names_are_refused(db: Database, name: str) -> None:
    with pytest.raises(InvalidInput):
        await service.save_recipe(db, ALICE, name, [MILK])


async def test_rename_and_delete(db: Database) -> None:
    recipe = await service.save_recipe(db, ALICE, "Old", [MILK])
    assert (await service.rename_recipe(db, ALICE, recipe.id, "New")).name == "New"
    await service.delete_recipe(db, ALICE, recipe.id)
    with pytest.raises(RecipeNotFound):
        await service.get_recipe(db, ALICE, recipe.id)
    with pytest.raises(RecipeNotFound):
        await service.delete_recipe(db, ALICE, recipe.id)


async def test_export_formats(db: Database) -> None:
    await service.save_recipe(db, ALICE, "Crêpes", [MILK, EGGS, SALT], "fr")
    data = json.loads(await service.export_recipes(db, ALICE, "json"))
    first = data["recipes"][0]["ingredients"][0]
    assert first == MILK.to_json()
    rows = list(csv.DictReader(io.StringIO(await service.export_recipes(db, ALICE, "csv"))))
    assert [r["name"] for r in rows] == ["lait", "œufs", "sel, poivre"]
    assert rows[0]["quantity"] == "0.5"
    assert rows[2]["quantity"] == ""
    md = await service.export_recipes(db, ALICE, "md")
    assert md.startswith("## Crêpes\n")
    assert "- 0,5 litre lait" in md
    with pytest.raises(InvalidInput):
        await service.export_recipes(db, ALICE, "xml")  # type: ignore[arg-type]


async def test_draft_review_then_finish_saves_once(db: Database) -> None:
    draft = await service.create_draft(db, ALICE, chat_id=9, ingredients=[MILK], lang="fr")
    assert (await service.current_draft(db, ALICE, 9)) == draft
    draft = await service.update_draft(db, ALICE, draft.id, ingredients=[MILK, EGGS], name="Pâte")
    recipe = await service.finish_draft(db, ALICE, draft.id)
    assert (recipe.name, recipe.ingredients, recipe.lang) == ("Pâte", (MILK, EGGS), "fr")
    assert (await service.get_draft(db, ALICE, draft.id)).status is DraftStatus.SAVED
    with pytest.raises(DraftNotFound):
        await service.finish_draft(db, ALICE, draft.id)  # a second confirm saves nothing
    with pytest.raises(DraftNotFound):
        await service.update_draft(db, ALICE, draft.id, name="Again")
    assert (await service.list_recipes(db, ALICE)).total == 1
    assert await service.current_draft(db, ALICE, 9) is None


async def test_a_draft_keeps_its_photos_and_the_recipe_it_edits(db: Database) -> None:
    recipe = await service.save_recipe(db, ALICE, "Soup", [MILK])
    first = DraftPage("a" * 64, "AgACAgQ:1")
    draft = await service.create_draft(db, ALICE, 9, [MILK], pages=[first], recipe_id=recipe.id)
    assert (draft.pages, draft.recipe_id) == ((first,), recipe.id)
    second = DraftPage("b" * 64, "AgACAgQ:2")
    draft = await service.update_draft(db, ALICE, draft.id, pages=(*draft.pages, second))
    assert await service.current_draft(db, ALICE, 9) == draft
    assert draft.pages == (first, second)
    await service.delete_recipe(db, ALICE, recipe.id)  # the edited recipe is gone
    assert (await service.get_draft(db, ALICE, draft.id)).recipe_id is None


async def test_cancel_draft(db: Database) -> None:
    draft = await service.create_draft(db, ALICE, chat_id=9, ingredients=[MILK])
    assert (await service.cancel_draft(db, ALICE, draft.id)).status is DraftStatus.CANCELLED
    assert (await service.list_recipes(db, ALICE)).total == 0


async def test_archive_moves_old_ocr_text_to_jsonl(db: Database, tmp_path: Path) -> None:
    await service.save_recipe(db, ALICE, "Kept", [MILK])
    async with db.transaction() as repo:
        await repo.add_ocr_entry(image_sha256="f" * 64, settings_key="k", text="old text")
    out = tmp_path / "archive.jsonl"
    nothing = await service.archive_ocr_entries(db, timedelta(days=30), out)
    assert nothing.archived == 0
    assert not out.exists()
    report = await service.archive_ocr_entries(db, timedelta(seconds=-1), out)
    assert report.archived == 1
    assert json.loads(out.read_text().splitlines()[0])["text"] == "old text"
    async with db.transaction() as repo:
        assert await repo.cached_ocr("f" * 64, "k") is None
    assert (await service.list_recipes(db, ALICE)).total == 1


async def test_user_b_cannot_touch_user_a_recipes_or_drafts(db: Database) -> None:
    recipe = await service.save_recipe(db, ALICE, "Secret crêpes", [MILK, EGGS], "fr")
    draft = await service.create_draft(db, ALICE, chat_id=5, ingredients=[MILK], name="Secret")
    await service.save_recipe(db, BOB, "Bob's own", [SALT])

    # service layer
    with pytest.raises(RecipeNotFound):
        await service.get_recipe(db, BOB, recipe.id)
    with pytest.raises(RecipeNotFound):
        await service.rename_recipe(db, BOB, recipe.id, "Stolen")
    with pytest.raises(RecipeNotFound):
        await service.replace_ingredients(db, BOB, recipe.id, [SALT])
    with pytest.raises(RecipeNotFound):
        await service.delete_recipe(db, BOB, recipe.id)
    assert (await service.search_recipes(db, BOB, "secret crepes lait oeufs")).total == 0
    assert (await service.search_recipes(db, BOB, "lait")).total == 0
    assert [r.name for r in (await service.list_recipes(db, BOB)).items] == ["Bob's own"]
    exported = json.loads(await service.export_recipes(db, BOB, "json"))
    assert [r["name"] for r in exported["recipes"]] == ["Bob's own"]
    for fmt in ("csv", "md"):
        assert "Secret" not in await service.export_recipes(db, BOB, fmt)  # type: ignore[arg-type]
    for call in (
        service.get_draft(db, BOB, draft.id),
        service.update_draft(db, BOB, draft.id, name="Stolen"),
        service.finish_draft(db, BOB, draft.id),
        service.cancel_draft(db, BOB, draft.id),
    ):
        with pytest.raises(DraftNotFound):
            await call
    assert await service.current_draft(db, BOB, 5) is None

    # repository layer
    async with db.transaction() as repo:
        assert await repo.get_recipe(BOB, recipe.id) is None
        assert await repo.rename_recipe(BOB, recipe.id, "x") is None
        assert await repo.replace_ingredients(BOB, recipe.id, []) is None
        assert await repo.delete_recipe(BOB, recipe.id) is False
        assert await repo.get_draft(BOB, draft.id) is None
        assert await repo.update_draft(BOB, draft.id, name="x") is None
        assert await repo.delete_draft(BOB, draft.id) is False
        assert await repo.latest_draft(BOB, 5) is None
        assert all(r.user_id == BOB for r in await repo.all_recipes(BOB))

    # and A's data is intact
    kept = await service.get_recipe(db, ALICE, recipe.id)
    assert (kept.name, kept.ingredients) == ("Secret crêpes", (MILK, EGGS))
    kept_draft = await service.get_draft(db, ALICE, draft.id)
    assert (kept_draft.name, kept_draft.status) == ("Secret", DraftStatus.REVIEWING)


async def test_bot_state_helpers(db: Database) -> None:
    assert await service.claim_update(db, 7) is True
    assert await service.claim_update(db, 7) is False
    key = await service.store_callback(db, ALICE, {"recipe": 3})
    assert await service.load_callback(db, ALICE, key) == {"recipe": 3}
    assert await service.load_callback(db, BOB, key) is None
    assert await service.load_callback(db, ALICE, "forged") is None
    assert await service.user_language(db, ALICE) is None
    await service.set_user_language(db, ALICE, "fr")
    assert await service.user_language(db, ALICE) == "fr"
    assert await service.forget_old_state(db, timedelta(seconds=-1)) == (1, 1)
