"""A whole text (one recipe's OCR output or a pasted list) → `ParsedText`.

Each line is classified (blank, ingredients header, instructions header, serving line,
instruction sentence, section header, title, ingredient, continuation of the previous
ingredient), then wrapped ingredient lines are merged and parsed with `parse_clean_line`.
`line_indices` records, per ingredient, which lines of `text.splitlines()` it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from just_ingredients.domain import Ingredient, Lang
from just_ingredients.parsing.language import detect_language
from just_ingredients.parsing.line import _BULLET_RE, clean_line, parse_clean_line
from just_ingredients.parsing.quantities import match_range
from just_ingredients.parsing.units import match_unit

__all__ = ["ParsedText", "parse_text"]


@dataclass(frozen=True, slots=True)
class ParsedText:
    """What `parse_text` found. `line_indices[i]` are the 0-based indices, in
    `text.splitlines()`, of the source lines of `ingredients[i]`."""

    lang: Lang
    title: str | None
    sections: tuple[str, ...]
    ingredients: tuple[Ingredient, ...]
    skipped: tuple[str, ...]
    line_indices: tuple[tuple[int, ...], ...]


_I = re.IGNORECASE
_INGREDIENTS_HEADER_RE = re.compile(
    r"^(?:liste des |les )?(?:ingr[ée]dients?|ingredient list|what you(?:'ll)? need|"
    r"you will need|il vous faut)\b.{0,40}$",
    _I,
)
_INLINE_HEADER_RE = re.compile(r"^(?:ingr[ée]dients?)\s*:\s*", _I)
_INSTRUCTIONS_HEADER_RE = re.compile(
    r"^(?:method|methods|instructions?|directions?|preparation|préparation|steps?|étapes?|"
    r"procédure|procedure|réalisation|realisation|déroulement|recette|to make|how to make|"
    r"cooking|mode opératoire)\s*(?::.*)?$",
    _I,
)
_SERVING_RE = re.compile(
    r"^(?:serves?\b|servings?\b|makes\b|yields?\b|pour \d+|pour (?:[\w-]+ )?personnes?\b|"
    r"for \d+ (?:people|persons|servings)|\d+ (?:personnes?|portions?|servings|parts)\b|"
    r"temps\b|prep(?:aration)? time|cook(?:ing)? time|total time|cuisson\s*:|"
    r"préparation\s*:|repos\s*:|difficulté|coût|portions?\b|calories|nutrition|"
    r"page \d+|step \d+|étape \d+)",
    _I,
)
_TITLE_PREFIX_RE = re.compile(r"^(?:recipe|recette)\s*(?::|de\b|d')\s*", _I)
_IMPERATIVE = frozenset(
    """
    mix add bake preheat stir combine place heat cook serve whisk fold bring remove
    transfer let cover put melt spread sprinkle knead leave drain return simmer boil fry
    grill roast blend garnish divide arrange meanwhile pour refrigerate chill grease
    brush wash chop peel halve toss repeat increase allow prepare mélanger mélangez
    préchauffer préchauffez ajouter ajoutez verser versez faire faites cuire battre
    battez mettre mettez laisser laissez servir servez éplucher épluchez couper coupez
    incorporer incorporez enfourner enfournez répartir répartissez porter portez
    égoutter égouttez fouetter fouettez dans pendant beurrer beurrez réserver réservez
    étaler étalez disposer disposez saler salez poivrer poivrez chauffer chauffez
    retirer retirez déposer déposez napper nappez parsemer parsemez hacher hachez
    """.split()  # noqa: SIM905
)
#: words of a sentence, not of an ingredient name, after an imperative verb
_FUNCTION_WORDS = frozenset(
    """
    the a an with into in until to and all well together at on over for from
    le la les l' dans avec jusqu'à au aux à puis et des un une sur pendant
    """.split()  # noqa: SIM905
)
_SECTION_WORDS = frozenset(
    """
    sauce garniture garnish garnishes topping toppings filling fillings frosting icing
    glaze glaçage dressing marinade crust pastry dough pâte base batter streusel syrup
    sirop décoration decoration decorations ganache coulis assembly montage biscuit fond
    appareil crumble farce vinaigrette salade salad meringue caramel chantilly crème
    mousse
    """.split()  # noqa: SIM905
)
_FOR_SECTION_RE = re.compile(r"^(?:for|pour)\s+(?:the\s+|la\s+|le\s+|les\s+|l'|un\s+|une\s+)", _I)
_NUMBERING_RE = re.compile(r"^(\d{1,2})[.)]\s+(?=\S)")
_COMMA_SPLIT_RE = re.compile(r",\s+(?=\d)")
_CONNECTOR_END_RE = re.compile(
    r"(?:[,(\-+&/]|\b(?:and|or|of|with|de|d'|à|a|et|ou|au|aux|du|des|la|le|en|pour|plus))$",
    _I,
)
#: adjectives that rarely end an ingredient name: "2 cups all-purpose" / "flour"
_WRAP_ADJ = frozenset(
    """
    all-purpose unsalted salted granulated powdered brown light dark heavy whipping sour
    extra-virgin virgin old-fashioned rolled ground kosher sea fresh dried large small
    medium whole sweet plain self-raising self-rising confectioners confectioners' red
    green white black yellow melted softened semisweet bittersweet unsweetened sweetened
    toasted chopped minced grated frozen canned smoked
    """.split()  # noqa: SIM905
)
#: nouns that often qualify the next word: "1 teaspoon baking" / "soda"
_WRAP_NOUN_MOD = frozenset(
    """
    vanilla lemon orange lime chicken vegetable beef soy fish coconut almond peanut
    maple dijon cream sesame balsamic wine olive baking icing caster crème huile sucre
    pommes fromage pâte poudre levure lait jus farine blancs jaunes
    """.split()  # noqa: SIM905
)
_WRAP_HEAD = frozenset(
    """
    flour soda powder extract oats sugar butter oil juice cheese cream milk chips sauce
    paste stock broth seeds zest beans fraîche d'olive glace chimique syrup vinegar
    yogurt yoghurt chocolate leaves leaf peppers pepper
    """.split()  # noqa: SIM905
)


def parse_text(text: str, lang: Lang | None = None) -> ParsedText:
    """Parse a whole ingredient text: title, sections, ingredients and skipped lines."""
    lines = text.splitlines()
    lang = lang or detect_language(text)
    cleaned = [clean_line(line) for line in lines]
    numbered = _strip_numbering(cleaned)
    # a bullet starts a new item: such a line never continues the one before
    bulleted = {i for i, line in enumerate(lines) if _BULLET_RE.match(line.lstrip())}
    for i, s in enumerate(cleaned):  # "Ingredients: 2 cups flour" — the header is inline
        m = _INLINE_HEADER_RE.match(s)
        if m is not None and _starts_with_amount(s[m.end() :]):
            cleaned[i] = s[m.end() :]

    title: str | None = None
    sections: list[str] = []
    skipped: list[str] = []
    groups: list[tuple[list[int], str | None]] = []  # (line indices, section)
    section: str | None = None
    in_instructions = False
    open_group = False
    seen_ingredient = False
    first_nonblank = next((i for i, s in enumerate(cleaned) if s), -1)
    last_name_empty = False

    for i, s in enumerate(cleaned):
        if not s:
            open_group = False
            continue
        if _INGREDIENTS_HEADER_RE.match(s) and not _starts_with_amount(s):
            in_instructions = False
            open_group = False
            skipped.append(lines[i].strip())
            if title is None and not seen_ingredient and not groups:
                title = _previous_title(cleaned, i)
            continue
        if in_instructions:
            skipped.append(lines[i].strip())
            continue
        m = _TITLE_PREFIX_RE.match(s)
        if m is not None and title is None and not groups:
            rest = s[m.end() :].strip(" :")
            if rest:
                title = rest
            else:
                skipped.append(lines[i].strip())
            open_group = False
            continue
        if _INSTRUCTIONS_HEADER_RE.match(s) and not _starts_with_amount(s):
            in_instructions = True
            open_group = False
            skipped.append(lines[i].strip())
            continue
        if _SERVING_RE.match(s):
            open_group = False
            skipped.append(lines[i].strip())
            continue
        if (
            open_group
            and groups
            and i not in numbered
            and i not in bulleted
            and _continues(
                cleaned[groups[-1][0][0]], cleaned[groups[-1][0][-1]], s, last_name_empty
            )
        ):
            groups[-1][0].append(i)
            continue
        header = _section_name(s)
        if header is not None:
            if i == first_nonblank and title is None and not _ends_with_colon(s):
                title = header
            else:
                sections.append(header)
                section = header
            open_group = False
            continue
        if _is_instruction(s):
            open_group = False
            skipped.append(lines[i].strip())
            continue
        if (
            i == first_nonblank
            and title is None
            and not _starts_with_amount(s)
            and _looks_like_title(cleaned, i)
        ):
            title = s.strip(" :")
            continue
        groups.append(([i], section))
        open_group = True
        seen_ingredient = True
        last_name_empty = _name_empty(s, lang)

    ingredients: list[Ingredient] = []
    indices: list[tuple[int, ...]] = []
    for idx, sect in groups:
        joined = " ".join(cleaned[j] for j in idx)
        raw = " ".join(lines[j].strip() for j in idx)
        for part_raw, part in _split_comma_list(raw, joined):
            ing = parse_clean_line(part_raw, part, lang, sect)
            if ing is None:
                skipped.append(part_raw)
                continue
            ingredients.append(ing)
            indices.append(tuple(idx))
    return ParsedText(
        lang=lang,
        title=title,
        sections=tuple(sections),
        ingredients=tuple(ingredients),
        skipped=tuple(skipped),
        line_indices=tuple(indices),
    )


def _strip_numbering(cleaned: list[str]) -> set[int]:
    """Drop list numbering (`1.`, `2)`) when the lines are numbered 1, 2, 3… or when the
    number is followed by a quantity (`1. 2 cups flour`)."""
    numbered = [(i, m) for i, s in enumerate(cleaned) if (m := _NUMBERING_RE.match(s))]
    sequential = len(numbered) >= 2 and [int(m.group(1)) for _, m in numbered] == list(
        range(int(numbered[0][1].group(1)), int(numbered[0][1].group(1)) + len(numbered))
    )
    stripped: set[int] = set()
    for i, m in numbered:
        rest = cleaned[i][m.end() :]
        if sequential or _starts_with_amount(rest):
            cleaned[i] = rest
            stripped.add(i)
    return stripped


def _starts_with_amount(s: str) -> bool:
    rng = match_range(s, 0)
    return rng is not None and not rng[0].is_word


def _ends_with_colon(s: str) -> bool:
    return s.rstrip().endswith(":")


def _section_name(s: str) -> str | None:
    if _starts_with_amount(s):
        return None
    words = s.split()
    if len(words) > 6:
        return None
    bare = s.strip(" :*_-=#").strip()
    if not bare:
        return None
    if _ends_with_colon(s) and not any(ch.isdigit() for ch in bare):
        return bare
    if _FOR_SECTION_RE.match(s) and len(words) <= 5:
        return bare
    if bare.lower() in _SECTION_WORDS:
        return bare
    letters = [ch for ch in bare if ch.isalpha()]
    if (
        len(words) <= 4
        and len(letters) >= 3
        and all(ch.isupper() for ch in letters)
        and not any(ch.isdigit() for ch in bare)
    ):
        return bare
    return None


def _is_instruction(s: str) -> bool:
    if _starts_with_amount(s):
        return False
    words = s.split()
    first = words[0].lower().strip(",.:;")
    if first in _IMPERATIVE and len(words) >= 2:
        # "Mix well", "Add 2 cups", "Bake at 350" — but not "Roast beef" or "trail mix"
        second = words[1].lower()
        if (
            s.rstrip().endswith(".")
            or second[:1].isdigit()
            or any(w.lower() in _FUNCTION_WORDS for w in words[1:])
        ):
            return True
    return len(words) >= 12 and s.rstrip().endswith((".", "!"))


def _looks_like_title(cleaned: list[str], i: int) -> bool:
    s = cleaned[i]
    if len(s.split()) > 8 or s.endswith((",", ".")):
        return False
    nxt = next((j for j in range(i + 1, len(cleaned)) if cleaned[j]), None)
    if nxt is None:
        return False
    blank_after = not cleaned[i + 1] if i + 1 < len(cleaned) else False
    nxt_text = cleaned[nxt]
    return (
        blank_after
        or bool(_INGREDIENTS_HEADER_RE.match(nxt_text))
        or (s[:1].isupper() and (_starts_with_amount(nxt_text) and s.istitle()))
    )


def _previous_title(cleaned: list[str], i: int) -> str | None:
    for j in range(i - 1, -1, -1):
        s = cleaned[j]
        if s:
            if _starts_with_amount(s) or len(s.split()) > 10:
                return None
            m = _TITLE_PREFIX_RE.match(s)
            return (s[m.end() :] if m else s).strip(" :") or None
    return None


def _name_empty(s: str, lang: Lang) -> bool:
    ing = parse_clean_line(s, s, lang)
    return ing is not None and not ing.name and ing.quantity is not None


def _continues(start: str, prev: str, cur: str, prev_name_empty: bool) -> bool:
    """Is `cur` the end of the ingredient on the line before (wrapped by the layout)?
    `start` is the first line of that ingredient, `prev` its last line so far."""
    if _starts_with_amount(cur):
        return False
    if prev.count("(") > prev.count(")"):
        return True
    if _CONNECTOR_END_RE.search(prev):
        return True
    if not cur[:1].islower() or not _starts_with_amount(start):
        return False
    if prev_name_empty:
        return True
    if "," in prev:  # the name was complete; only its comment could wrap
        return False
    last = prev.rsplit(None, 1)[-1].lower()
    if last in _WRAP_ADJ or last.endswith("-"):
        return True
    first = cur.split(None, 1)[0].lower().strip(",.;:")
    return last in _WRAP_NOUN_MOD and first in _WRAP_HEAD


def _split_comma_list(raw: str, joined: str) -> list[tuple[str, str]]:
    """`150g de farine, 100g de sucre` → two ingredients (only when every part after a
    comma starts with a number and a unit)."""
    if "," not in joined or not _starts_with_amount(joined):
        return [(raw, joined)]
    parts: list[str] = []
    last = 0
    for m in _COMMA_SPLIT_RE.finditer(joined):
        before = joined[: m.start()]
        if before.count("(") == before.count(")"):  # not inside parentheses
            parts.append(joined[last : m.start()])
            last = m.end()
    parts.append(joined[last:])
    if len(parts) < 2:
        return [(raw, joined)]
    for part in parts[1:]:
        rng = match_range(part, 0)
        if rng is None:
            return [(raw, joined)]
        end = (rng[1] or rng[0]).end
        if part[end : end + 1] == " ":
            end += 1
        unit = match_unit(part, end)
        if unit is None or unit.needs_of:
            return [(raw, joined)]
        name = part[unit.end :].strip()
        if not name[:1].isalpha():  # "15 oz beans, 1 can, drained": an amount, not an item
            return [(raw, joined)]
    return [(p, p) for p in parts]
