"""parse_text: headers, titles, sections, wrapped lines, skipped lines, line indices."""

from __future__ import annotations

from just_ingredients.parsing import ParsedText, parse_text


def _triples(parsed: ParsedText) -> list[tuple[float | None, str | None, str]]:
    return [(i.quantity, i.unit, i.name) for i in parsed.ingredients]


def test_title_header_and_instructions() -> None:
    text = "Crêpes\n\nIngrédients :\n250 g de farine\n3 œufs\n\nPréparation :\nMélanger."
    parsed = parse_text(text)
    assert parsed.lang == "fr"
    assert parsed.title == "Crêpes"
    assert _triples(parsed) == [(250, "g", "farine"), (3, None, "œufs")]
    assert parsed.line_indices == ((3,), (4,))
    assert "Ingrédients :" in parsed.skipped
    assert "Mélanger." in parsed.skipped


def test_english_header_and_instructions_header() -> None:
    text = "Ingredients:\n2 cups flour\n1 tablespoon sugar\n\nInstructions:\nMix well"
    parsed = parse_text(text)
    assert parsed.lang == "en"
    assert _triples(parsed) == [(2, "cup", "flour"), (1, "tbsp", "sugar")]
    assert parsed.skipped == ("Ingredients:", "Instructions:", "Mix well")


def test_title_before_ingredients_header() -> None:
    parsed = parse_text("Chocolate Cake\nIngredients\n200 g chocolate")
    assert parsed.title == "Chocolate Cake"
    assert len(parsed.ingredients) == 1


def test_recipe_prefix_title() -> None:
    parsed = parse_text("RECIPE: Simple Brownies\n\n1/2 cup brown sugar\n1/4 cup white sugar")
    assert parsed.title == "Simple Brownies"
    assert len(parsed.ingredients) == 2


def test_sections_are_recorded_and_set_on_ingredients() -> None:
    text = (
        "For the dough:\n250 g flour\n1 egg\n"
        "SAUCE\n2 tbsp soy sauce\n"
        "Pour la pâte :\n100 g de beurre\n"
        "Garniture\n1 citron"
    )
    parsed = parse_text(text)
    assert parsed.sections == ("For the dough", "SAUCE", "Pour la pâte", "Garniture")
    assert [i.section for i in parsed.ingredients] == [
        "For the dough",
        "For the dough",
        "SAUCE",
        "Pour la pâte",
        "Garniture",
    ]


def test_bullets_and_numbering_are_stripped() -> None:
    text = "1. 2 cups flour\n2. 1 tsp salt\n3. 3 eggs\n• 1 cup milk\n- 2 tbsp oil\n* 1 pinch salt"
    parsed = parse_text(text)
    assert _triples(parsed) == [
        (2, "cup", "flour"),
        (1, "tsp", "salt"),
        (3, None, "eggs"),
        (1, "cup", "milk"),
        (2, "tbsp", "oil"),
        (1, "pinch", "salt"),
    ]


def test_numbered_list_without_leading_quantity() -> None:
    parsed = parse_text("1) flour\n2) sugar\n3) salt")
    assert [i.name for i in parsed.ingredients] == ["flour", "sugar", "salt"]


def test_wrapped_names_are_merged() -> None:
    text = (
        "INGREDIENTS:\n2 cups all-purpose\nflour\n1 teaspoon baking\nsoda\n"
        "8 tablespoons unsalted\nbutter, cold and cubed (See\nnote.)\n1 cup buttermilk"
    )
    parsed = parse_text(text)
    assert _triples(parsed) == [
        (2, "cup", "all-purpose flour"),
        (1, "tsp", "baking soda"),
        (8, "tbsp", "unsalted butter"),
        (1, "cup", "buttermilk"),
    ]
    assert parsed.line_indices == ((1, 2), (3, 4), (5, 6, 7), (8,))
    assert parsed.ingredients[2].raw == "8 tablespoons unsalted butter, cold and cubed (See note.)"
    assert parsed.ingredients[2].comment is not None
    assert "cold and cubed" in parsed.ingredients[2].comment


def test_a_bulleted_line_is_never_a_continuation() -> None:
    text = "- 3 tablespoons unsalted butter,\n  melted\n- maple syrup, to serve\n• sel"
    parsed = parse_text(text)
    assert [i.name for i in parsed.ingredients] == ["unsalted butter", "maple syrup", "sel"]
    assert parsed.line_indices == ((0, 1), (2,), (3,))
    assert parsed.ingredients[0].comment == "melted"


def test_unwrapped_lowercase_lines_stay_separate() -> None:
    parsed = parse_text("250 g de farine\n3 œufs\nsel, poivre")
    assert _triples(parsed) == [
        (250, "g", "farine"),
        (3, None, "œufs"),
        (None, None, "sel, poivre"),
    ]


def test_serving_and_instruction_lines_are_skipped() -> None:
    text = (
        "Serves 4\nPour 4 personnes\n2 cups flour\n"
        "Préchauffer le four à 180 °C et beurrer le moule.\nMethod\nMix everything together."
    )
    parsed = parse_text(text)
    assert _triples(parsed) == [(2, "cup", "flour")]
    assert parsed.skipped == (
        "Serves 4",
        "Pour 4 personnes",
        "Préchauffer le four à 180 °C et beurrer le moule.",
        "Method",
        "Mix everything together.",
    )


def test_comma_separated_amounts_on_one_line() -> None:
    parsed = parse_text("150g de farine, 100g de sucre")
    assert _triples(parsed) == [(150, "g", "farine"), (100, "g", "sucre")]
    assert parsed.line_indices == ((0,), (0,))


def test_language_detected_once_or_given() -> None:
    assert parse_text("2 cups flour\n1 tsp salt").lang == "en"
    assert parse_text("2 cups flour", "fr").lang == "fr"


def test_noisy_ocr_text_does_not_crash() -> None:
    text = "Ingrédients\n2 c. à s. d’huile | d'olive\n  Y% cup sugar \n¦¦ ~~ \n1 |b butter"
    parsed = parse_text(text)
    assert all(0 <= i.confidence <= 1 for i in parsed.ingredients)
    assert all(i.quantity is None or i.quantity >= 0 for i in parsed.ingredients)


def test_empty_text() -> None:
    parsed = parse_text("")
    assert parsed.ingredients == ()
    assert parsed.line_indices == ()


def test_header_with_servings_and_inline_header() -> None:
    parsed = parse_text("Ingredients for 4 people\n2 cups flour")
    assert [i.name for i in parsed.ingredients] == ["flour"]
    parsed = parse_text("Ingrédients : 250 g de farine, 100 g de sucre")
    assert [(i.quantity, i.name) for i in parsed.ingredients] == [(250, "farine"), (100, "sucre")]


def test_imperative_words_that_are_also_ingredients() -> None:
    parsed = parse_text("Roast beef\n2 cups trail mix\nMix well")
    assert [i.name for i in parsed.ingredients] == ["Roast beef", "trail mix"]
    assert parsed.skipped == ("Mix well",)
