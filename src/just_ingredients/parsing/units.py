"""The units table: spellings of every unit, loaded once from `units.toml`.

All spellings live in the data file; this module turns them into two compiled regexes (one
case-insensitive, one exact-case for `T`/`t`) and dictionaries from a normalised spelling to
its canonical code. Matching is a single `regex.match` at a position, longest spelling first.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = [
    "UNIT_CODES",
    "UnitMatch",
    "canonical_unit",
    "match_unit",
    "trailing_unit",
    "unit_description",
]

_ACCENT_CLASSES = {
    "à": "[àa]",
    "â": "[âa]",
    "é": "[ée]",
    "è": "[èe]",
    "ê": "[êe]",
    "î": "[îi]",
    "ï": "[ïi]",
    "ô": "[ôo]",
    "û": "[ûu]",
    "ù": "[ùu]",
    "ç": "[çc]",
}


@dataclass(frozen=True, slots=True)
class UnitMatch:
    """A unit found in a line: canonical `code`, the `surface` as written, `end` offset."""

    code: str
    surface: str
    end: int
    needs_of: bool
    key: str
    leading: bool = False


def _fold(text: str) -> str:
    """Lower-case, strip accents, dots and whitespace: the dictionary key of a spelling."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch not in ". ")


def _form_pattern(form: str) -> str:
    out: list[str] = []
    prev = ""
    for ch in form:
        if ch == " ":
            out.append(r"\s*" if prev == "." else r"\s+")
        elif ch == ".":
            out.append(r"\.?")
        else:
            out.append(_ACCENT_CLASSES.get(ch, re.escape(ch)))
        prev = ch
    return "".join(out)


def _compile(forms: list[str], flags: int) -> re.Pattern[str]:
    ordered = sorted(set(forms), key=lambda f: (-len(f), f))
    alternation = "|".join(_form_pattern(f) for f in ordered)
    # a unit ends at a non-letter: "l" in "1 l d'eau" but not in "1 large"
    return re.compile(rf"(?:{alternation})\.?(?![^\W\d_]|['’])", flags)


def _load() -> dict[str, Any]:
    data = resources.files(__package__).joinpath("units.toml").read_text(encoding="utf-8")
    return tomllib.loads(data)


_DATA = _load()
_CONTEXT: dict[str, list[tuple[tuple[str, ...], str]]] = {}
_BY_KEY: dict[str, tuple[str, bool]] = {}
_BY_EXACT: dict[str, tuple[str, bool]] = {}
_DESCRIPTIONS: dict[str, str] = {}
_LEADING: set[str] = set()
_TRAILING: dict[str, str] = {}
_ci_forms: list[str] = []
_exact_forms: list[str] = []

for _code, _spec in _DATA.items():
    if _code == "context":
        continue
    _DESCRIPTIONS[_code] = _spec["description"]
    if _spec.get("leading"):
        _LEADING.add(_code)
    for _form in _spec.get("trailing", []):
        _TRAILING[_form.lower()] = _code
    for _form, _needs_of in [(f, False) for f in _spec.get("forms", [])] + [
        (f, True) for f in _spec.get("needs_of", [])
    ]:
        _key = _fold(_form)
        if _key in _BY_KEY and _BY_KEY[_key][0] != _code:
            raise ValueError(f"unit spelling {_form!r} maps to {_BY_KEY[_key][0]} and {_code}")
        _BY_KEY[_key] = (_code, _needs_of)
        _ci_forms.append(_form)
    for _form in _spec.get("exact", []):
        _BY_EXACT[_form] = (_code, False)
        _exact_forms.append(_form)

for _rule in _DATA.get("context", []):
    for _form in _rule["forms"]:
        _CONTEXT.setdefault(_fold(_form), []).append(
            (tuple(n.lower() for n in _rule["next"]), _rule["code"])
        )

UNIT_CODES: frozenset[str] = frozenset(_DESCRIPTIONS)
_CI_RE = _compile(_ci_forms, re.IGNORECASE)
_EXACT_RE = _compile(_exact_forms, 0)
_KEY_CACHE: dict[str, str] = {}


def _key_of(surface: str) -> str:
    key = _KEY_CACHE.get(surface)
    if key is None:
        key = _fold(surface)
        if len(_KEY_CACHE) < 4096:  # bounded: only unit surfaces ever land here
            _KEY_CACHE[surface] = key
    return key


def match_unit(text: str, pos: int) -> UnitMatch | None:
    """The unit spelled at `text[pos:]`, if any (longest spelling wins)."""
    m = _EXACT_RE.match(text, pos)
    if m is not None:
        surface = m.group().rstrip(".")
        hit = _BY_EXACT.get(surface)
        if hit is not None:
            return UnitMatch(hit[0], m.group(), m.end(), hit[1], surface, hit[0] in _LEADING)
    m = _CI_RE.match(text, pos)
    if m is None:
        return None
    key = _key_of(m.group())
    hit = _BY_KEY.get(key)
    if hit is None:  # pragma: no cover - every alternative comes from the table
        return None
    return UnitMatch(hit[0], m.group(), m.end(), hit[1], key, hit[0] in _LEADING)


def trailing_unit(word: str) -> str | None:
    """Code of a unit word that may end a name (`3 garlic cloves`), else None."""
    return _TRAILING.get(word.lower())


def context_code(unit_key: str, following: str) -> str | None:
    """Code chosen by a [[context]] rule for a unit followed by `following` (lower-case)."""
    rules = _CONTEXT.get(unit_key)
    if not rules:
        return None
    for prefixes, code in rules:
        if following.startswith(prefixes):
            return code
    return None


def canonical_unit(word: str) -> str | None:
    """Canonical code of a unit word (`tablespoons` → `tbsp`), or None if it is no unit."""
    word = word.strip()
    if word in _BY_EXACT:
        return _BY_EXACT[word][0]
    hit = _BY_KEY.get(_fold(word))
    return hit[0] if hit else None


def unit_description(code: str) -> str:
    """One-line description of a canonical unit code from the data file."""
    return _DESCRIPTIONS[code]
