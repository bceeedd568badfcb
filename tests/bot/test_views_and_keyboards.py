"""Views, keyboards and the i18n keys the bot uses, without a bot."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from just_ingredients.bot import handlers, keyboards, views
from just_ingredients.domain import BoundingBox, Draft, DraftPage, Ingredient, Recipe
from just_ingredients.i18n import message_ids

BOT_SRC = Path(handlers.__file__).parent

FLOUR = Ingredient(raw="1,5 kg farine", name="farine", quantity=1.25, unit="kg", unit_text="kg")
MILK = Ingredient(raw="0.15 l milk", name="milk", quantity=0.15, unit="l", unit_text="l")
SMUDGE = Ingredient(raw="Y%/ tsp salt", name="salt", confidence=0.3, bbox=BoundingBox(1, 2, 3, 4))


def draft(*items: Ingredient, name: str | None = "Crêpes") -> Draft:
    return Draft(id=1, user_id=7, chat_id=7, ingredients=items, name=name)


def test_review_numbers_lines_marks_doubtful_ones_and_escapes_user_text() -> None:
    text = views.review_text(draft(FLOUR, SMUDGE, name="<b>Tarte</b> & co"), "en")
    assert "&lt;b&gt;Tarte&lt;/b&gt; &amp; co" in text
    assert "1. 1 ¼ kg farine" in text
    assert "2. ⚠️ salt" in text
    assert "⚠️ = I'm not sure" in text
    assert "2 ingredients" in text


def test_numbers_follow_the_user_language() -> None:
    assert views.ingredient_text(MILK, "fr") == "0,15 l milk"
    assert views.ingredient_text(MILK, "en") == "0.15 l milk"


def test_untitled_and_empty_reviews() -> None:
    assert "Recette sans nom" in views.review_text(draft(name=None), "fr")
    assert "No ingredients left" in views.review_text(draft(), "en")


def test_recipe_text_has_no_doubt_marks() -> None:
    recipe = Recipe(id=3, user_id=7, name="Soup & bread", ingredients=(SMUDGE,))
    text = views.recipe_text(recipe, "en")
    assert "Soup &amp; bread" in text
    assert "⚠️" not in text


@pytest.mark.parametrize("limit", [10, 50, 4096])
def test_split_message_cuts_on_line_boundaries(limit: int) -> None:
    lines = [f"{n}. {'x' * (n % 7)} ingredient" for n in range(400)]
    text = "\n".join(lines)
    chunks = views.split_message(text, limit)
    assert all(len(c) <= limit for c in chunks)
    assert "\n".join(chunks).replace("\n", "") == text.replace("\n", "")
    if limit >= 50:
        assert "\n".join(chunks) == text  # nothing cut inside a line


def test_split_message_cuts_a_single_overlong_line_and_never_returns_nothing() -> None:
    assert views.split_message("y" * 9000) == ["y" * 4096, "y" * 4096, "y" * 808]
    assert views.split_message("") == [""]


def test_review_keyboard_has_every_action_and_short_callback_data() -> None:
    markup = keyboards.review("A" * 12, "en", 3)
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert labels[:6] == ["✏️ 1", "🗑 1", "✏️ 2", "🗑 2", "✏️ 3", "🗑 3"]
    assert labels[-4:] == ["➕ Add a line", "🏷 Rename", "✅ Save", "✖️ Cancel"]
    datas = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert all(isinstance(d, str) and len(d.encode()) <= 64 for d in datas)


def test_review_keyboard_stays_within_telegram_button_limits() -> None:
    markup = keyboards.review("k" * 12, "fr", 500)
    assert sum(len(row) for row in markup.inline_keyboard) <= 100
    assert all(len(row) <= 8 for row in markup.inline_keyboard)


def test_callback_data_round_trip_and_refusals() -> None:
    assert keyboards.split_data(keyboards.data("abc", "e12")) == ("abc", "e12")
    for bad in (None, "", "nokey", ":x", "key:"):
        assert keyboards.split_data(bad) is None
    with pytest.raises(ValueError, match="64 bytes"):
        keyboards.data("k" * 70, "ok")


def test_draft_pages_round_trip_through_json() -> None:
    page = DraftPage("ab" * 32, "AgAC:x")
    assert DraftPage.from_json(page.to_json()) == page
    d = Draft(id=1, user_id=7, chat_id=7, ingredients=(), pages=(page,), recipe_id=42)
    assert (d.pages[0].file_id, d.recipe_id) == ("AgAC:x", 42)


def test_caption_becomes_a_name_only_when_it_fits() -> None:
    assert handlers.caption_name("  Crêpes  \n du dimanche ", None) == "Crêpes du dimanche"
    assert handlers.caption_name("@bot Tarte", "bot") == "Tarte"
    assert handlers.caption_name("x" * 256, None) is None
    assert handlers.caption_name("   ", None) is None


def _keys_used() -> set[str]:
    """String literals passed as the message key to t()/plain()/translate() in bot/."""
    keys: set[str] = set()
    for path in BOT_SRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("t", "plain", "translate")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                keys.add(str(node.args[1].value))
    return keys


def test_every_message_key_used_by_the_bot_exists_in_both_languages() -> None:
    used = _keys_used()
    assert len(used) > 40
    assert used <= message_ids("en")
    assert used <= message_ids("fr")
    for command in handlers.COMMANDS:
        assert f"cmd_{command}" in message_ids("en")
        assert f"/{command}" in views.t("fr", "help")


def test_questions_in_groups_ask_for_a_reply() -> None:
    assert handlers.question_markup(-100123) is not None  # the answer must be a reply to us
    assert handlers.question_markup(42) is None
