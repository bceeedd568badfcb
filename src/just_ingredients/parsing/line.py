"""One ingredient line → `Ingredient`.

The line is read left to right with precompiled regexes matched at a position: cleaning,
leading modifiers (`about`, `le jus de`), quantity or range, size words, unit (from the data
file), alternative amounts (`/5oz`, `(240 ml)`), partitive (`of`, `de`, `d'`), then the name,
from which parentheses, comma tails and known modifiers move into `comment`.
"""

from __future__ import annotations

import re

from just_ingredients.domain import Amount, Ingredient, Lang
from just_ingredients.parsing.language import detect_language
from just_ingredients.parsing.quantities import match_quantity, match_range
from just_ingredients.parsing.units import (
    UnitMatch,
    canonical_unit,
    context_code,
    match_unit,
    trailing_unit,
)

__all__ = ["clean_line", "parse_clean_line", "parse_line"]

_TRANSLATE = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "´": "'",
        "`": "'",
        "ʼ": "'",
        "“": '"',
        "”": '"',
        "«": '"',
        "»": '"',
        "⁄": "/",
        "∕": "/",
        "–": "-",
        "—": "-",
        "−": "-",
        "‐": "-",
        "‑": "-",
        "×": "x",
    }
)
_BULLET_RE = re.compile(r"^(?:[•\-*·□■▪►○●◦>~»◆❖✓✔☐+]+|o(?=\s)|\[\s?\])\s*")
_LEADING_SPECK_RE = re.compile(r"^(?:[\"':;,]|\.(?=[\"':;,.\s]))[\"':;,.\s]*(?=[\d½¼¾⅓⅔⅛])")
_OCR_ONE_RE = re.compile(r"^[lI|](?=\s?/\s?\d)")  # "l/2 cup" → "1/2 cup"
_PIPE_IN_WORD_RE = re.compile(r"(?<=[^\W\d_])\||\|(?=[^\W\d_])")  # "|b", "mi|k" → l
_PREFIX_RE = re.compile(
    r"(?i:about|approx\.?|approximately|around|roughly|environ|env\.|scant|generous|"
    r"heaping|heaped|rounded|level|good|a good|generous|juste)\s+"
)
_JUICE_RE = re.compile(
    r"(?i:(?:le |la |the )?(?:(?:freshly |finely )?grated )?(?:jus|zestes?|zest|juice)"
    r"\s+(?:de |d'|of )(?:la |l')?)"
)
_FEW_RE = re.compile(
    r"(?i:a few|few|some|several|quelques|un peu d[e']|a little|a bit of|a handful of|"
    r"plusieurs|un morceau d[e']|a small amount of)\s*"
)
_SIZE_RE = re.compile(
    r"\s*(?i:extra[- ]large|extra[- ]small|very thin|very large|large|small|medium|big|fat|"
    r"heaped|heaping|level|rounded|generous|scant|good|lg|sm|med|jumbo|thick|thin|fresh|whole|"
    r"unpeeled|[a-z]+-sized|"
    r"petite?s?|grosses?|gros|grande?s?|moyenne?s?|fines?|belles?|beaux|beau|bonnes?|bons?)"
    r"(?![^\W\d_])"
)
#: size words that only count as such before a unit ("fines herbes" stays a name)
_SIZE_ONLY_BEFORE_UNIT = frozenset(
    {"fine", "fines", "thin", "thick", "good", "bonne", "bonnes", "fresh", "whole", "unpeeled"}
)
_POST_UNIT_MOD_RE = re.compile(
    r"\s*(?i:rases?|bombées?|bien pleines?|pleines?|généreuses?|heaped|heaping|level|rounded)"
    r"(?![^\W\d_])"
)
_PARTITIVE_RE = re.compile(r"\s*(?i:of|de la|de l'|des|du|de|d')(?:\s+|(?<=')|$)")
_DIM_RE = re.compile(
    r"\s*(?:\d+(?:[.,/]\d+)?|[½¼¾⅓⅔⅛])(?:\s*-?\s*(?:to|à)\s*\d+(?:[.,/]\d+)?)?\s*-\s*"
    r"(?i:inch|in|cm|ounce|oz|pound|lb|gram|g|quart|litre|liter)(?:es|s)?(?:-[a-z]+)*(?![^\W\d_])"
)
_PLUS_RE = re.compile(r"\s*,?\s*(?:\+|(?i:plus))\s+")
_X_RE = re.compile(r"\s?[xX](?![^\W\d_])")
_ALT_SLASH_RE = re.compile(r"\s*/\s*")
_ALT_PAREN_OPEN_RE = re.compile(r"\s*\(\s*(?i:about |approx\.? |environ |env\. |ca\. )?")
_ALT_PAREN_CLOSE_RE = re.compile(r"\s*\)")
_PAREN_RE = re.compile(r"\s*[(\[]([^()\[\]]*)[)\]]")
_SPLIT_RE = re.compile(r"\s*(?:[,;]|\s-\s)\s*")
_EN_TAIL_RE = re.compile(
    r"\s+(?i:or to taste|to taste|as needed|as required|if needed|optional|"
    r"plus (?:more|extra|additional)\b.*|for (?:serving|garnish|garnishing|decoration|"
    r"dusting|greasing|drizzling|sprinkling|brushing|the)\b.*|(?:cut|sliced|diced|chopped|torn)"
    r"\s+(?:into|in)\b.*|or\s+(?=\d).*)$"
)
_FR_TAIL_RE = re.compile(
    r"\s+(?i:du moulin|à température ambiante|a temperature ambiante|à chair ferme|"
    r"selon (?:votre |les )?goûts?|facultatif|pour (?:la |le |les |l')\S.*)$"
)
_FR_MOD_RE = re.compile(
    r"\s(?i:finement|grossièrement|bien|non|très|coupée?s?|hachée?s?|émincée?s?|ciselée?s?|"
    r"râpée?s?|écrasée?s?|pelée?s?|épépinée?s?|égouttée?s?|décortiquée?s?|dénoyautée?s?|"
    r"désossée?s?|fondue?s?|ramollie?s?|tièdes?|mou|molle|bio|maison|entiers|rases?|"
    r"bombées?|mûre?s?|battue?s?|tamisée?s?|lavée?s?|épluchée?s?)(?![^\W\d_]|-).*$"
)
_EN_LEAD_PREP_RE = re.compile(
    r"(?i:(?:(?:[a-z]+ly|freshly)\s+)+(?:[a-z]+ed|ground|cut|torn)(?:\s+and\s+[a-z]+ed)?)\s+"
)
_EN_TRAIL_PREP_RE = re.compile(
    r"\s+(?i:chopped|diced|minced|sliced|beaten|softened|melted|grated|peeled|crushed|"
    r"halved|quartered|drained|rinsed|sifted|cubed|shredded|trimmed)$"
)
_EDGE_JUNK = " ,.;:-*_/\\'\"~"
_LETTER_RE = re.compile(r"[^\W\d_]")
_NUMBER_IN_NAME_RE = re.compile(r"(?:^|\s)[\d½¼¾⅓⅔⅛/]+(?:\s|$)")
_GARBAGE_RE = re.compile(r"[%#@$^{}<>=¤§¬�]|[^\W\d_]%")


def clean_line(text: str) -> str:
    """Normalise one line: quotes, dashes, spaces, fraction slash, bullets, `|` for `l`."""
    s = " ".join(text.translate(_TRANSLATE).split())
    if not s:
        return s
    if s[0] in "•-*·□■▪►○●◦>~»◆❖✓✔☐+o[":
        s = _BULLET_RE.sub("", s, count=1)
    if s[:1] in "\"':;,.":  # OCR specks before an amount: '"1/2 cup', ': 4 cups'
        s = _LEADING_SPECK_RE.sub("", s, count=1)
    if s[:1] in "lI|":
        s = _OCR_ONE_RE.sub("1", s, count=1)
    if "|" in s:  # OCR reads l and I as |; a lone | is a column rule
        s = " ".join(_PIPE_IN_WORD_RE.sub("l", s).replace("|", " ").split())
    return s


def _has_partitive(s: str, pos: int) -> bool:
    m = _POST_UNIT_MOD_RE.match(s, pos)
    if m is not None:
        pos = m.end()
    return _PARTITIVE_RE.match(s, pos) is not None


def _read_amount(s: str, pos: int) -> tuple[Amount, int] | None:
    """An alternative amount (quantity and unit both required) at `s[pos:]`."""
    rng = match_range(s, pos)
    if rng is None:
        return None
    first, second = rng
    end = (second or first).end
    m = _SIZE_RE.match(s, end)
    if m is not None:
        end = m.end()
    unit = match_unit(s, end + (1 if s[end : end + 1] == " " else 0))
    if unit is None or unit.needs_of:
        return None
    amount = Amount(first.value, second.value if second else None, unit.code, unit.surface.strip())
    return amount, unit.end


def parse_line(text: str, lang: Lang | None = None) -> Ingredient | None:
    """Parse one ingredient line. None when the line holds no letter and no digit.

    `lang` (en/fr) is detected from the line when None.
    """
    s = clean_line(text)
    if not s:
        return None
    return parse_clean_line(text, s, lang or detect_language(s))


def parse_clean_line(raw: str, s: str, lang: Lang, section: str | None = None) -> Ingredient | None:
    """Parse an already cleaned line (`clean_line`); `raw` is kept as given."""
    if _LETTER_RE.search(s) is None and not any(ch.isdigit() for ch in s):
        return None
    comments: list[str] = []
    alternatives: list[Amount] = []
    pos = 0

    # leading modifiers: "about 2 cups", "le jus d'un citron", "quelques feuilles"
    m = _PREFIX_RE.match(s)
    if m is not None and match_quantity(s, m.end()) is not None:
        comments.append(m.group().strip())
        pos = m.end()
    m = _JUICE_RE.match(s, pos)
    if m is not None and match_quantity(s, m.end()) is not None:
        comments.append(m.group().strip())
        pos = m.end()

    quantity: float | None = None
    quantity_max: float | None = None
    multiplied = False  # "4 x 125g fillets"
    rng = match_range(s, pos)
    if rng is not None and rng[0].is_word:
        # "A generous ½ teaspoon": the article gives way to the number that follows
        m = _PREFIX_RE.match(s, rng[0].end + 1)
        if m is not None:
            later = match_range(s, m.end())
            if later is not None and not later[0].is_word:
                comments.append(m.group().strip())
                rng = later
    q_end = pos
    if rng is not None:
        first, second = rng
        quantity = first.value
        q_end = (second or first).end
        if second is not None:
            quantity_max = second.value
        if s[q_end : q_end + 2] == ". ":  # "1/2. cup": a speck after the number
            q_end += 1
        m = _X_RE.match(s, q_end)
        if m is not None:
            q_end = m.end()
            multiplied = True
    else:
        m = _FEW_RE.match(s, pos)
        if m is not None and m.end() < len(s):
            comments.append(m.group().strip())
            q_end = m.end()
    pos = q_end

    if quantity is not None:
        pos = _read_item_size(s, pos, comments, multiplied)

    # size words: "2 large cloves", "1 gros oignon"
    sizes: list[tuple[str, int]] = []
    while True:
        m = _SIZE_RE.match(s, pos)
        if m is None:
            break
        sizes.append((m.group().strip(), pos))
        pos = m.end()

    unit: UnitMatch | None = None
    unit_code: str | None = None
    upos = pos + 1 if s[pos : pos + 1] == " " else pos
    if quantity is not None or upos == 0 or comments or sizes:
        cand = match_unit(s, upos)
        if cand is not None:
            if quantity is not None:
                ok = not cand.needs_of or _has_partitive(s, cand.end)
            else:
                ok = _has_partitive(s, cand.end) or (cand.leading and cand.end < len(s))
            if ok:
                unit = cand
                unit_code = cand.code
    if unit is None:
        # "fines herbes", "4 fresh basil leaves": some size words need a unit after them
        while sizes and sizes[-1][0].lower() in _SIZE_ONLY_BEFORE_UNIT:
            pos = sizes.pop()[1]
    size_words = [w for w, _ in sizes]

    if unit is not None:
        pos = unit.end
        m = _POST_UNIT_MOD_RE.match(s, pos)
        if m is not None:
            size_words.append(m.group().strip())
            pos = m.end()
        pos = _read_alternatives(s, pos, alternatives, comments)

    if unit is not None or quantity is not None:
        m = _PARTITIVE_RE.match(s, pos)
        if m is not None and (unit is not None or lang == "fr" or m.group().strip() == "of"):
            pos = m.end()

    rest = s[pos:].strip()
    if unit is not None:
        code = context_code(unit.key, rest.lower())
        if code == "":
            # not a unit here ("1 noix de coco"): the unit word is part of the name
            rest = s[upos:].strip()
            unit = None
            unit_code = None
        elif code is not None:
            unit_code = code

    name, comment_parts = _split_name(rest, lang, quantity is not None or unit is not None)
    trailing_surface: str | None = None
    if unit is None and quantity is not None and " " in name:
        head, last = name.rsplit(" ", 1)
        code = trailing_unit(last)
        if code is not None:
            name, unit_code, trailing_surface = head, code, last
    comments.extend(size_words)
    comments.extend(comment_parts)

    confidence = 1.0
    if not name or _LETTER_RE.search(name) is None:
        confidence -= 0.4
    if _GARBAGE_RE.search(s):
        confidence -= 0.35
    if quantity is None and unit_code is None and len(name) > 60:
        confidence -= 0.3
    if "(" in name or ")" in name:
        confidence -= 0.1
    if name and not name[0].isalnum():
        confidence -= 0.3  # "¢ 1/4 cup sugar": a glyph the OCR could not read
    if quantity is None and _NUMBER_IN_NAME_RE.search(name):
        confidence -= 0.3  # an amount we could not read is left in the name
    if quantity is None and unit_code is None and name:
        words = [w.strip(",.;:!?") or w for w in name.split(None, 2)[:2]]
        if any(canonical_unit(w) not in (None, "l") for w in words):
            confidence -= 0.3  # "f Cups walter": a unit word without its number
        if not words[0].replace("-", "").replace("'", "").isalpha():
            confidence -= 0.2  # "If) leaspeen": OCR debris at the start

    return Ingredient(
        raw=raw,
        name=name,
        quantity=quantity,
        quantity_max=quantity_max,
        unit=unit_code,
        unit_text=unit.surface.strip() if unit is not None else trailing_surface,
        comment=", ".join(c for c in comments if c) or None,
        alternatives=tuple(alternatives),
        section=section,
        confidence=max(0.0, min(1.0, confidence)),
    )


def _read_item_size(s: str, pos: int, comments: list[str], multiplied: bool) -> int:
    """The size of each item, between quantity and unit, into `comments`: "1 (14-ounce) can",
    "1 35-ounce can", "2 6-inch sticks", "2 15-ounce (426-g) cans", "4 x 125g/4½oz fillets"."""
    for _ in range(3):
        m = _PAREN_RE.match(s, pos)
        if m is not None and match_quantity(m.group(1).strip(), 0) is not None:
            comments.append(m.group().strip())
            pos = m.end()
            continue
        m = _DIM_RE.match(s, pos)
        if m is not None:
            comments.append(m.group().strip())
            pos = m.end()
            continue
        if multiplied:
            start = pos
            alt = _read_amount(s, pos + (1 if s[pos : pos + 1] == " " else 0))
            if alt is not None:
                pos = _read_alternatives(s, alt[1], [], [])
                comments.append(s[start:pos].strip())
                continue
        break
    return pos


def _read_alternatives(s: str, pos: int, alternatives: list[Amount], comments: list[str]) -> int:
    """Other amounts after the first: "/5¼oz", "(240 ml)", "plus 2 teaspoons"."""
    while True:
        sep = _ALT_SLASH_RE.match(s, pos)
        if sep is not None:
            alt = _read_amount(s, sep.end())
            if alt is not None:
                alternatives.append(alt[0])
                pos = alt[1]
                continue
        sep = _ALT_PAREN_OPEN_RE.match(s, pos)
        if sep is not None:
            alt = _read_amount(s, sep.end())
            if alt is not None:
                close = _ALT_PAREN_CLOSE_RE.match(s, alt[1])
                if close is not None:
                    alternatives.append(alt[0])
                    pos = close.end()
                    continue
        sep = _PLUS_RE.match(s, pos)
        if sep is not None:
            alt = _read_amount(s, sep.end())
            if alt is not None:
                comments.append(s[pos : alt[1]].strip(" ,"))
                pos = alt[1]
                continue
        return pos


def _split_name(rest: str, lang: Lang, has_amount: bool) -> tuple[str, list[str]]:
    """Name and comment parts of what follows the amount."""
    comments: list[str] = []
    name = rest.lstrip(" ,;")
    if "(" in name or "[" in name:
        parts: list[str] = []
        last = 0
        for m in _PAREN_RE.finditer(name):
            parts.append(name[last : m.start()])
            comments.append(m.group().strip())
            last = m.end()
        parts.append(name[last:])
        name = " ".join(" ".join(parts).split())
        open_at = name.find("(")
        if open_at < 0:
            open_at = name.find("[")
        if open_at >= 0:  # unclosed: "butter, cold (See" — the rest is a comment
            comments.append(name[open_at:].strip())
            name = name[:open_at].strip()
    name = _split_comma(name, comments, has_amount)
    for tail_re in (_EN_TAIL_RE, _FR_TAIL_RE, _FR_MOD_RE):
        t = tail_re.search(name)
        if t is not None and t.start() > 0:
            comments.insert(0, t.group().strip())
            name = name[: t.start()]
    if lang == "en":
        t = _EN_LEAD_PREP_RE.match(name)
        if t is not None and t.end() < len(name):
            comments.insert(0, t.group().strip())
            name = name[t.end() :]
        t = _EN_TRAIL_PREP_RE.search(name)
        if t is not None and t.start() > 0:
            comments.insert(0, t.group().strip())
            name = name[: t.start()]
    name = name.strip(_EDGE_JUNK)
    return name, comments


def _split_comma(name: str, comments: list[str], has_amount: bool) -> str:
    """Keep the name before the first comma, except lists joined by "or"/"and"
    ("olive, sunflower or vegetable oil"); a participle before the comma is a comment
    ("peeled, grated ginger")."""
    if "," not in name and ";" not in name and " - " not in name:
        return name
    parts = _SPLIT_RE.split(name)
    if len(parts) > 1 and _PARTICIPLES_ONLY_RE.fullmatch(parts[0]) and parts[1]:
        comments.append(parts[0])
        parts = parts[1:]
    keep = 1
    for k in range(1, len(parts)):
        part = parts[k]
        if _looks_like_modifier(part) and not part.lower().startswith(("or ", "and ")):
            break
        if part.lower().startswith(("or ", "and ", "ou ", "et ")) or " or " in part:
            keep = k + 1
    if (
        keep == 1
        and not has_amount
        and not _looks_like_modifier(parts[1] if len(parts) > 1 else "")
    ):
        keep = len(parts)  # "sel, poivre": a list of names without an amount
    head = ", ".join(parts[:keep])
    tail = ", ".join(p for p in parts[keep:] if p.strip(_EDGE_JUNK))
    if tail:
        comments.insert(0, tail)
    return head


_PARTICIPLES_ONLY_RE = re.compile(r"(?i:(?:[a-z]+ly\s+)?[a-z]+ed(?:\s+and\s+[a-z]+ed)?)")
_MODIFIER_START_RE = re.compile(
    r"(?i:to |for |or |plus |optional|if |as |divided|at room|such as|like |e\.g\.|preferably|"
    r"ideally|about |see |à |pour |selon |facultatif|"
    r"[a-z]+ed\b|[a-z]+ly\b|cut |(?:finement|grossièrement|coupée?s?|hachée?s?|émincée?s?|"
    r"râpée?s?))"
)


def _looks_like_modifier(tail: str) -> bool:
    return _MODIFIER_START_RE.match(tail.strip()) is not None
