import pytest

from just_ingredients.presentation import format_number, format_quantity


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (2.0, "en", "2"),
        (0.5, "en", "½"),
        (1.5, "en", "1 ½"),
        (1 / 3, "en", "⅓"),
        (2.75, "fr", "2 ¾"),
        (0.15, "en", "0.15"),
        (1.15, "fr", "1,15"),
        (0.125, "en", "⅛"),
    ],
)
def test_format_number(value: float, lang: str, expected: str) -> None:
    assert format_number(value, lang) == expected  # type: ignore[arg-type]


def test_format_quantity_range_and_empty() -> None:
    assert format_quantity(2, 3) == "2–3"
    assert format_quantity(None, None) == ""


def test_format_ingredient_uses_the_unit_as_written_and_the_comment() -> None:
    from just_ingredients.domain import Ingredient
    from just_ingredients.presentation import format_ingredient

    ing = Ingredient(
        raw="1,5 kg de pommes de terre, épluchées",
        name="pommes de terre",
        quantity=1.5,
        unit="kg",
        unit_text="kg",
        comment="épluchées",
    )
    assert format_ingredient(ing, "fr") == "1,5 kg pommes de terre (épluchées)"
    assert format_ingredient(Ingredient(raw="sel", name="sel"), "fr") == "sel"


def test_metric_amounts_are_decimals_in_the_users_locale() -> None:
    assert format_quantity(1.5, None, "fr", "kg") == "1,5"
    assert format_quantity(0.5, None, "en", "l") == "0.5"
    assert format_quantity(1.5, 2.5, "fr", "cup") == "1 ½–2 ½"
