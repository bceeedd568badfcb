"""Properties: the parser never raises and keeps its invariants on any input."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from just_ingredients.parsing import parse_line, parse_text

_ALPHABET = st.sampled_from(
    [
        *"0123456789 /.,-–()½¼¾⅓⅛⁄abcdefglmnoprstuvxyzACGLT%|'’éèàçœ\t\n\r\x00\x1b\u200f",
        *["cup", "cups", "tbsp", "c. à s.", "de ", "d'", " to ", " à ", "g", "kg", "l ", "🍅"],
        "שלום",
    ]
)
_ingredientish = st.lists(_ALPHABET, max_size=40).map("".join)
_any_text = st.one_of(st.text(max_size=200), _ingredientish)


def _check(ing_quantity: float | None) -> None:
    if ing_quantity is not None:
        assert math.isfinite(ing_quantity)
        assert ing_quantity >= 0


@settings(max_examples=300, deadline=None)
@given(_any_text)
def test_parse_line_never_raises_and_keeps_raw(text: str) -> None:
    ing = parse_line(text)
    if ing is not None:
        assert ing.raw == text
        _check(ing.quantity)
        _check(ing.quantity_max)
        assert 0.0 <= ing.confidence <= 1.0
        for alt in ing.alternatives:
            _check(alt.quantity)


@settings(max_examples=150, deadline=None)
@given(st.lists(_any_text, max_size=12).map("\n".join), st.sampled_from([None, "en", "fr"]))
def test_parse_text_never_raises_and_line_indices_are_valid(text: str, lang: str | None) -> None:
    parsed = parse_text(text, lang)  # type: ignore[arg-type]
    n = len(text.splitlines())
    assert len(parsed.line_indices) == len(parsed.ingredients)
    for indices in parsed.line_indices:
        assert indices
        assert list(indices) == sorted(set(indices))
        assert all(0 <= i < n for i in indices)
    for ing in parsed.ingredients:
        _check(ing.quantity)
        _check(ing.quantity_max)


def test_huge_and_strange_inputs() -> None:
    for text in (
        "1" * 10_000 + " cups flour",
        "9" * 400 + "/1 cup",
        "a" * 10_000,
        "½" * 5000,
        "\x00\x01\x02 2 cups",
        "\u202e2 cups flour\u202c",
        "2 🍅🍅 tomatoes",
        "1e400 cups",
    ):
        ing = parse_line(text)
        if ing is not None:
            assert ing.raw == text
            _check(ing.quantity)
    parse_text("\n".join(["2 cups flour"] * 2000))
