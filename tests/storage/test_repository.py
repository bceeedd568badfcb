"""Repository behaviour on both backends (the `db` fixture is SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError

from just_ingredients.domain import BoundingBox, DraftPage, DraftStatus, Ingredient
from just_ingredients.storage import Database
from just_ingredients.storage.tables import IngredientRow, RecipeRow, utcnow

ALICE = 1001

FLOUR = Ingredient(raw="200 g flour, sifted", name="flour", quantity=200.0, unit="g",
                   unit_text="g", comment="sifted", confidence=0.9,
                   bbox=BoundingBox(1, 2, 3, 4), section="Dough")  # fmt: skip
EGGS = Ingredient(raw="2-3 œufs", name="œufs", quantity=2.0, quantity_max=3.0)
SALT = Ingredient(raw="sel", name="sel")


async def _count(db: Database, table: type[RecipeRow] | type[IngredientRow]) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_recipe_round_trips_with_every_ingredient_field(db: Database) -> None:
    async with db.transaction() as repo:
        saved = await repo.add_recipe(ALICE, "Crêpes", [FLOUR, EGGS, SALT], "fr")
    async with db.transaction() as repo:
        loaded = await repo.get_recipe(ALICE, saved.id)
    assert loaded is not None
    assert loaded.ingredients == (FLOUR, EGGS, SALT)
    assert (loaded.name, loaded.lang, loaded.user_id) == ("Crêpes", "fr", ALICE)
    assert loaded.created_at is not None
    assert loaded.created_at.tzinfo is not None


async def test_a_failing_ingredient_insert_leaves_nothing_saved(db: Database) -> None:
    too_long = Ingredient(raw="x", name="x" * 500)
    with pytest.raises((IntegrityError, DataError)):  # check constraint / varchar(200)
        async with db.transaction() as repo:
            await repo.add_recipe(ALICE, "Half saved?", [FLOUR, too_long])
    assert await _count(db, RecipeRow) == 0
    assert await _count(db, IngredientRow) == 0
    async with db.transaction() as repo:
        assert (await repo.search_recipes(ALICE, "flour")).total == 0


async def test_list_is_newest_first_and_paginated(db: Database) -> None:
    async with db.transaction() as repo:
        for n in range(5):
            await repo.add_recipe(ALICE, f"Recipe {n}", [SALT] * n)
    async with db.transaction() as repo:
        first = await repo.list_recipes(ALICE, limit=2)
        last = await repo.list_recipes(ALICE, limit=2, offset=4)
    assert [r.name for r in first.items] == ["Recipe 4", "Recipe 3"]
    assert first.items[0].ingredient_count == 4
    assert (first.total, first.has_more) == (5, True)
    assert [r.name for r in last.items] == ["Recipe 0"]
    assert last.has_more is False


async def test_rename_replace_and_delete(db: Database) -> None:
    async with db.transaction() as repo:
        recipe = await repo.add_recipe(ALICE, "Old", [FLOUR])
    async with db.transaction() as repo:
        renamed = await repo.rename_recipe(ALICE, recipe.id, "Pancakes")
        replaced = await repo.replace_ingredients(ALICE, recipe.id, [EGGS])
    assert renamed is not None
    assert renamed.name == "Pancakes"
    assert replaced is not None
    assert replaced.ingredients == (EGGS,)
    async with db.transaction() as repo:
        assert (await repo.search_recipes(ALICE, "pancakes")).total == 1
        assert (await repo.search_recipes(ALICE, "flour")).total == 0
        assert (await repo.search_recipes(ALICE, "oeufs")).total == 1
        assert await repo.delete_recipe(ALICE, recipe.id) is True
        assert await repo.delete_recipe(ALICE, recipe.id) is False
        assert (await repo.search_recipes(ALICE, "pancakes")).total == 0
    assert await _count(db, IngredientRow) == 0


async def test_draft_lifecycle(db: Database) -> None:
    async with db.transaction() as repo:
        draft = await repo.create_draft(
            ALICE, 55, [FLOUR], lang="fr", pages=[DraftPage("ab" * 32, "AgAC:1")]
        )
        assert draft.recipe_id is None
    async with db.transaction() as repo:
        changed = await repo.update_draft(
            ALICE, draft.id, ingredients=[FLOUR, SALT], awaiting="edit:1", name="Pâte"
        )
        assert changed is not None
        assert changed.ingredients == (FLOUR, SALT)
        assert (changed.awaiting, changed.name, changed.lang) == ("edit:1", "Pâte", "fr")
        assert changed.pages == (DraftPage("ab" * 32, "AgAC:1"),)
        more = await repo.update_draft(
            ALICE, draft.id, pages=[*changed.pages, DraftPage("cd" * 32, "AgAC:2")]
        )
        assert more is not None
        assert [p.file_id for p in more.pages] == ["AgAC:1", "AgAC:2"]
        latest = await repo.latest_draft(ALICE, 55)
        assert latest is not None
        assert latest.id == draft.id
        await repo.update_draft(ALICE, draft.id, status=DraftStatus.CANCELLED, awaiting=None)
        assert await repo.latest_draft(ALICE, 55) is None
        with pytest.raises(TypeError):
            await repo.update_draft(ALICE, draft.id, user_id=2)


async def test_ocr_cache_and_archive(db: Database) -> None:
    async with db.transaction() as repo:
        await repo.add_ocr_entry(image_sha256="a" * 64, settings_key="eng+fra:v1",
                                 text="old", lines=[{"text": "old"}], owner=ALICE)  # fmt: skip
        await repo.add_ocr_entry(image_sha256="a" * 64, settings_key="eng+fra:v1", text="new")
    async with db.transaction() as repo:
        hit = await repo.cached_ocr("a" * 64, "eng+fra:v1")
        assert hit is not None
        assert hit.text == "new"
        assert await repo.cached_ocr("a" * 64, "eng:v1") is None
        taken = await repo.take_ocr_entries_before(utcnow() + timedelta(seconds=1))
    assert [e.text for e in taken] == ["old", "new"]
    assert taken[0].user_id == ALICE
    assert taken[0].lines == [{"text": "old"}]
    async with db.transaction() as repo:
        assert await repo.cached_ocr("a" * 64, "eng+fra:v1") is None


async def test_updates_are_claimed_once(db: Database) -> None:
    async with db.transaction() as repo:
        assert await repo.claim_update(42) is True
        assert await repo.claim_update(42) is False
        assert await repo.forget_updates_before(utcnow() + timedelta(seconds=1)) == 1
        assert await repo.claim_update(42) is True


async def test_callback_keys_are_short_and_owned(db: Database) -> None:
    async with db.transaction() as repo:
        key = await repo.put_callback(ALICE, {"draft": 7, "action": "delete", "line": 3})
        assert len(key.encode()) <= 20
        assert await repo.get_callback(ALICE, key) == {"draft": 7, "action": "delete", "line": 3}
        assert await repo.get_callback(ALICE + 1, key) is None


async def test_user_language(db: Database) -> None:
    async with db.transaction() as repo:
        assert await repo.get_language(ALICE) is None
        await repo.set_language(ALICE, "fr")
        assert await repo.get_language(ALICE) == "fr"


async def test_inbox_keeps_an_update_until_finished_and_hands_it_over_once_its_lease_ends(
    db: Database,
) -> None:
    now = utcnow()
    photo = {"update_id": 77, "message": {"message_id": 5, "photo": [{"file_id": "AgAC"}]}}
    async with db.transaction() as repo:
        assert await repo.receive_update(77, photo, "a", now + timedelta(seconds=10)) is True
        assert await repo.receive_update(77, photo, "b", now + timedelta(seconds=10)) is False
        assert await repo.receive_update(78, {"update_id": 78}, "a", now + timedelta(seconds=5))
        await repo.note_progress(77, {"status_message_id": 9})
        await repo.note_progress(77, {"other": 1})
    async with db.transaction() as repo:
        # both leases still run: nothing to take over; the earliest ends in 5 s
        assert await repo.take_stale_updates("b", now, now + timedelta(seconds=10)) == []
        assert await repo.next_lease_end() == now + timedelta(seconds=5)
        assert await repo.renew_leases("a", now + timedelta(seconds=20)) == 2
    later = now + timedelta(seconds=15)
    async with db.transaction() as repo:
        assert await repo.take_stale_updates("b", later, later + timedelta(seconds=10)) == []
        assert await repo.release_leases("a", [78]) == 1
        assert await repo.release_leases("b", [77]) == 0  # only the holder lets go
    async with db.transaction() as repo:
        taken = await repo.take_stale_updates("b", later, later + timedelta(seconds=10))
    assert [(e.update_id, e.attempts, e.payload, e.progress) for e in taken] == [
        (78, 2, {"update_id": 78}, {})
    ]
    much_later = now + timedelta(seconds=60)
    async with db.transaction() as repo:
        taken = await repo.take_stale_updates("c", much_later, much_later + timedelta(seconds=10))
    assert [(e.update_id, e.attempts) for e in taken] == [(77, 2), (78, 3)]
    assert taken[0].payload == photo
    assert taken[0].progress == {"status_message_id": 9, "other": 1}
    async with db.transaction() as repo:
        assert await repo.finish_update(77) is True
        assert await repo.finish_update(77) is False
        assert await repo.finish_update(78) is True
        assert await repo.next_lease_end() is None
        # still claimed: a late redelivery of a finished update is not handled again
        assert await repo.receive_update(77, photo, "a", now) is False
