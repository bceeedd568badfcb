"""What the bot says: HTML messages in the user's language, user text escaped.

Pure functions (no Telegram calls) so they are tested without a bot. Every message is
Telegram HTML (`parse_mode=HTML`); anything that came from a person or from the OCR goes
through `html.escape`. Numbers are written in the user's locale (`presentation.py`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from just_ingredients.domain import Draft, Ingredient, Lang, Recipe
from just_ingredients.i18n import translate
from just_ingredients.presentation import format_quantity

#: Telegram's limit for one message's text (after entity parsing)
MAX_MESSAGE = 4096
DOUBTFUL_MARK = "⚠️"


def t(lang: Lang, key: str, **args: Any) -> str:
    """`translate` with every string argument HTML-escaped (the messages are HTML)."""
    safe = {k: html.escape(v, quote=False) if isinstance(v, str) else v for k, v in args.items()}
    return translate(lang, key, **safe)


def plain(lang: Lang, key: str, **args: Any) -> str:
    """A message for places that are not HTML (button labels, callback notices)."""
    return translate(lang, key, **args)


def ingredient_text(item: Ingredient, lang: Lang) -> str:
    """`1 ½ cups flour (sifted)`, escaped; the unit as written, numbers in `lang`."""
    parts = [format_quantity(item.quantity, item.quantity_max, lang)]
    parts.append(item.unit_text or item.unit or "")
    parts.append(item.name or item.raw)
    text = " ".join(p for p in parts if p).strip() or item.raw
    if item.comment:
        text += f" ({item.comment})"
    return html.escape(text, quote=False)


def numbered(items: Sequence[Ingredient], lang: Lang, *, mark_doubtful: bool = True) -> list[str]:
    lines = []
    for n, item in enumerate(items, 1):
        mark = f"{DOUBTFUL_MARK} " if mark_doubtful and item.doubtful else ""
        lines.append(f"{n}. {mark}{ingredient_text(item, lang)}")
    return lines


def recipe_name(name: str | None, lang: Lang) -> str:
    return html.escape(name, quote=False) if name else t(lang, "review_untitled")


def review_text(draft: Draft, lang: Lang, *, note: str | None = None) -> str:
    """The review of a draft: name, count, numbered lines (doubtful ones marked), hints."""
    head = [f"<b>{recipe_name(draft.name, lang)}</b>"]
    if note:
        head.insert(0, note)
    if not draft.ingredients:
        return "\n".join([*head, "", t(lang, "review_empty")])
    lines = [*head, f"<i>{t(lang, 'review_header', count=len(draft.ingredients))}</i>", ""]
    lines += numbered(draft.ingredients, lang)
    lines.append("")
    if any(i.doubtful for i in draft.ingredients):
        lines.append(t(lang, "review_doubtful"))
    lines.append(t(lang, "review_hint"))
    return "\n".join(lines)


def recipe_text(recipe: Recipe, lang: Lang, *, note: str | None = None) -> str:
    lines = [note, ""] if note else []
    lines.append(f"<b>{html.escape(recipe.name, quote=False)}</b>")
    lines.append(f"<i>{t(lang, 'review_header', count=len(recipe.ingredients))}</i>")
    lines.append("")
    lines += numbered(recipe.ingredients, lang, mark_doubtful=False)
    return "\n".join(lines)


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Cut `text` into messages of at most `limit` characters, on line boundaries (a single
    longer line is cut where it must be). Never returns an empty list."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks
