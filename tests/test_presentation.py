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
