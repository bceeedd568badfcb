"""Quantities: numbers, fractions, mixed numbers, ranges and number words.

`match_quantity(text, pos)` reads one quantity at `pos`; `match_amount_numbers` reads a
quantity or a range (`2-3`, `2 à 3`, `2 to 3`, `2 or 3`). Values are always finite and
non-negative floats; anything else (OCR garbage such as `%` or `Y%`) is not a quantity.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import NamedTuple

__all__ = ["Quantity", "match_quantity", "match_range"]

#: every Unicode vulgar fraction (½ ⅓ ¼ … ↉) and its value
VULGAR_FRACTIONS: dict[str, float] = {ch: unicodedata.numeric(ch) for ch in "½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅐⅛⅜⅝⅞⅑⅒↉"}
_UF = "".join(VULGAR_FRACTIONS)

#: number words (English and French); "a"/"un" followed by few/little/peu are not numbers
NUMBER_WORDS: dict[str, float] = {
    "a dozen": 12,
    "one dozen": 12,
    "dozen": 12,
    "une douzaine": 12,
    "douzaine": 12,
    "half a": 0.5,
    "half an": 0.5,
    "a half": 0.5,
    "half": 0.5,
    "one and a half": 1.5,
    "one half": 0.5,
    "a quarter": 0.25,
    "a third": 1 / 3,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "une demie": 0.5,
    "une demi": 0.5,
    "un demi": 0.5,
    "demie": 0.5,
    "demi": 0.5,
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
}
_WORDS = "|".join(
    re.escape(w).replace(r"\ ", r"\s+") for w in sorted(NUMBER_WORDS, key=len, reverse=True)
)

_QTY_RE = re.compile(
    rf"""
    (?:
        (?P<mi>\d+)(?:\s+|-|\s*\+\s*)(?P<mn>\d+)\s*/\s*(?P<md>\d+)      # 1 1/2, 1-1/2
            (?!\d|[.,]\d|\s?-\s?(?i:inch|in\b|cm))               # not "1 1/2-inch"
      | (?P<ui>\d+)\s?-?(?P<uf>[{_UF}])                                 # 1½, 1 ½
      | (?P<fn>\d+)\s*/\s*(?P<fd>\d+)(?![.,]?\d)                         # 1/2
      | (?P<u>[{_UF}])                                                   # ½
      | (?P<d>\d+(?:[.,]\d+)?|[.,]\d+)                                   # 2, 1.5, 1,5, .5
      | (?P<w>(?i:{_WORDS}))(?![^\W\d_])(?!\s+(?i:few|little|bit|peu)\b)(?!-)
    )
    """,
    re.VERBOSE,
)
_RANGE_SEP_RE = re.compile(r"\s*(?:-|~|(?i:to|à|a|or|ou)(?=\s))\s*")


class Quantity(NamedTuple):
    value: float
    end: int
    is_word: bool


def match_quantity(text: str, pos: int) -> Quantity | None:
    """One quantity at `text[pos:]`; None if there is none or it is not finite."""
    m = _QTY_RE.match(text, pos)
    if m is None:
        return None
    kind = m.lastgroup
    value: float
    if kind == "d":
        value = float(m.group("d").replace(",", "."))
    elif kind == "md":
        den = float(m.group("md"))
        if den == 0:
            return None
        value = float(m.group("mi")) + float(m.group("mn")) / den
    elif kind == "uf":
        value = float(m.group("ui")) + VULGAR_FRACTIONS[m.group("uf")]
    elif kind == "fd":
        den = float(m.group("fd"))
        if den == 0:
            return None
        value = float(m.group("fn")) / den
    elif kind == "u":
        value = VULGAR_FRACTIONS[m.group("u")]
    else:  # number word
        value = float(NUMBER_WORDS[" ".join(m.group("w").lower().split())])
        if not math.isfinite(value):  # pragma: no cover - table values are finite
            return None
        return Quantity(value, m.end(), True)
    if not math.isfinite(value) or value < 0:
        return None
    return Quantity(value, m.end(), False)


def match_range(text: str, pos: int) -> tuple[Quantity, Quantity | None] | None:
    """A quantity or a range (`2-3`, `2–3`, `2 à 3`, `2 to 3`, `2 or 3`) at `text[pos:]`."""
    first = match_quantity(text, pos)
    if first is None:
        return None
    sep = _RANGE_SEP_RE.match(text, first.end)
    if sep is not None:
        second = match_quantity(text, sep.end())
        if second is not None and not second.is_word and second.value > first.value:
            return first, second
    return first, None
