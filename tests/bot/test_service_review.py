"""The use cases added for the bot's review: typed lines, editing a saved recipe."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from just_ingredients import service
from just_ingredients.domain import DraftStatus, Ingredient
from just_ingredients.storage import Database, DatabaseUnavailable

ALICE, BOB = 11, 12
MILK = Ingredient(raw="1 l milk", name="milk", quantity=1, unit="l", unit_text="l")


def test_typed_lines_go_through_the_photo_parser() -> None:
    (eggs,) = service.parse_ingredient_lines("  2 eggs ", "en")
    assert (eggs.quantity, eggs.name, eggs.confidence, eggs.bbox) == (2, "eggs", 1.0, None)
    two = service.parse_ingredient_lines("200 g de farine\n1 pincée de sel", "fr")
    assert [i.unit for i in two] == ["g", "pinch"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Preheat the oven to 180 degrees.", "line_not_ingredient"),
        ("???", "line_not_ingredient"),
        ("200 g", "line_no_name"),
        ("x" * 301, "line_too_long"),
    ],
)
def test_typed_lines_without_an_ingredient_are_refused_with_a_reason(text: str, code: str) -> None:
    with pytest.raises(service.LineRejected) as refused:
        service.parse_ingredient_lines(text, "en")
    assert refused.value.code == code


async def test_a_draft_opened_on_a_recipe_replaces_its_name_and_lines(db: Database) -> None:
    recipe = await service.save_recipe(db, ALICE, "Soup", [MILK])
    draft = await service.create_draft(db, ALICE, 1, [MILK, MILK], name="Thick soup")
    with pytest.raises(service.NotFound):
        await service.apply_draft_to_recipe(db, BOB, draft.id, recipe.id)
    updated = await service.apply_draft_to_recipe(db, ALICE, draft.id, recipe.id)
    assert (updated.name, len(updated.ingredients)) == ("Thick soup", 2)
    assert (await service.get_draft(db, ALICE, draft.id)).status is DraftStatus.SAVED
    with pytest.raises(service.DraftNotFound):  # once only
        await service.apply_draft_to_recipe(db, ALICE, draft.id, recipe.id)
    other = await service.create_draft(db, ALICE, 1, [MILK])
    with pytest.raises(service.RecipeNotFound):
        await service.apply_draft_to_recipe(db, ALICE, other.id, recipe.id + 999)


def test_database_errors_are_told_apart() -> None:
    assert service.is_database_error(DatabaseUnavailable("down"))
    assert service.is_database_error(OperationalError("SELECT 1", {}, Exception("gone")))
    assert not service.is_database_error(ValueError("bug"))
    assert not service.is_database_error(None)


async def test_the_bot_forgets_old_state_in_the_background(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from just_ingredients.bot import runtime

    await service.claim_update(db, 1)
    calls: list[object] = []
    twice = asyncio.Event()
    original = service.forget_old_state

    async def spy(database: Database, older_than: object) -> tuple[int, int]:
        calls.append(older_than)
        if len(calls) >= 2:
            twice.set()
        return await original(database, runtime.FORGET_STATE_AFTER)

    monkeypatch.setattr(service, "forget_old_state", spy)
    task = asyncio.create_task(runtime.forget_old_state_periodically(db, 0.01, 0.0))
    try:
        await asyncio.wait_for(twice.wait(), 5)
    finally:
        task.cancel()
    assert calls[0] == runtime.FORGET_STATE_AFTER
    assert not await service.claim_update(db, 1)  # a recent id is kept
