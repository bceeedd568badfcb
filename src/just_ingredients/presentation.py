"""How quantities and ingredients are written for people (CLI tables, bot messages, exports)."""

from __future__ import annotations

from just_ingredients.domain import Ingredient, Lang

_GLYPHS: dict[tuple[int, int], str] = {
    (1, 2): "½",
    (1, 4): "¼",
    (3, 4): "¾",
    (1, 3): "⅓",
    (2, 3): "⅔",
    (1, 8): "⅛",
    (3, 8): "⅜",
    (5, 8): "⅝",
    (7, 8): "⅞",
}


#: metric amounts read better as decimals (`1,5 kg`, `0.5 l`) than as fractions
METRIC_UNITS = frozenset({"mg", "g", "kg", "ml", "cl", "dl", "l"})


def format_number(value: float, lang: Lang = "en", *, decimal: bool = False) -> str:
    """`1.5` → `1 ½`, `0.333` → `⅓`, `2.0` → `2`, `0.15` → `0.15` (`0,15` in fr).

    With `decimal`, no fraction glyphs: `1.5` → `1.5` (`1,5` in French).
    """
    whole = int(value)
    frac = value - whole
    if abs(frac) < 1e-6:
        return str(whole)
    for (num, den), glyph in _GLYPHS.items():
        if not decimal and abs(frac - num / den) < 0.005:
            return glyph if whole == 0 else f"{whole} {glyph}"
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "fr" else text


def format_quantity(
    quantity: float | None,
    quantity_max: float | None,
    lang: Lang = "en",
    unit: str | None = None,
) -> str:
    if quantity is None:
        return ""
    decimal = unit in METRIC_UNITS
    text = format_number(quantity, lang, decimal=decimal)
    if quantity_max is not None:
        text += "–" + format_number(quantity_max, lang, decimal=decimal)
    return text


def format_amount(ingredient: Ingredient, lang: Lang = "en") -> str:
    """The amount as shown: `1 ½ cup`, `250 g`, `2–3`, or empty."""
    qty = format_quantity(ingredient.quantity, ingredient.quantity_max, lang, ingredient.unit)
    unit = ingredient.unit or ""
    return f"{qty} {unit}".strip()


def format_ingredient(ingredient: Ingredient, lang: Lang = "en") -> str:
    """`150–200 g flour (sifted)`: the amount, the unit as written, the name, the comment."""
    parts = [
        format_quantity(ingredient.quantity, ingredient.quantity_max, lang, ingredient.unit),
        ingredient.unit_text or ingredient.unit or "",
        ingredient.name,
    ]
    text = " ".join(p for p in parts if p)
    return f"{text} ({ingredient.comment})" if ingredient.comment else text
