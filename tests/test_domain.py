import math

import pytest

from just_ingredients.domain import Amount, BoundingBox, Ingredient


def test_ingredient_json_round_trip_keeps_every_field() -> None:
    ing = Ingredient(
        raw="150g/5¼oz butter, softened",
        name="butter",
        quantity=150,
        unit="g",
        unit_text="g",
        comment="softened",
        alternatives=(Amount(5.25, None, "oz", "oz"),),
        section="For the cake",
        confidence=0.5,
        bbox=BoundingBox(1, 2, 3, 4),
    )
    assert Ingredient.from_json(ing.to_json()) == ing


def test_json_has_the_design_keys() -> None:
    data = Ingredient(raw="1/2 litre de lait", name="lait", quantity=0.5, unit="l").to_json()
    for key in ("quantity", "quantity_max", "unit", "unit_text", "name", "raw", "confidence"):
        assert key in data


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_quantities_must_be_finite_and_non_negative(bad: float) -> None:
    with pytest.raises(ValueError, match="quantity"):
        Ingredient(raw="x", name="x", quantity=bad)
    with pytest.raises(ValueError, match="quantity"):
        Amount(1.0, bad)


def test_low_confidence_is_doubtful() -> None:
    assert Ingredient(raw="x", name="x", confidence=0.4).doubtful
    assert not Ingredient(raw="x", name="x", confidence=0.9).doubtful
