"""Use cases (DESIGN.md §1): the one place that combines parsing, vision and storage.

Each function is one use case in one transaction; the bot and the CLI are thin front ends
over them. Every recipe and draft use case takes the owner's Telegram id.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from just_ingredients.domain import (
    BoundingBox,
    Draft,
    DraftPage,
    DraftStatus,
    Ingredient,
    Lang,
    Recipe,
)
from just_ingredients.parsing import ParsedText, parse_text
from just_ingredients.presentation import format_ingredient
from just_ingredients.storage import Database, InboxEntry, Page, RecipeSummary
from just_ingredients.storage.tables import NAME_MAX, utcnow
from just_ingredients.vision.engine import OcrPool
from just_ingredients.vision.result import OcrLine

ExportFormat = Literal["json", "csv", "md"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("json", "csv", "md")
MAX_PAGE = 100


class NotFound(LookupError):
    """No such recipe or draft for this user (also when it belongs to someone else)."""


class RecipeNotFound(NotFound):
    def __init__(self, recipe_id: int, user_id: int) -> None:
        super().__init__(f"recipe {recipe_id} not found for user {user_id}")
        self.recipe_id = recipe_id


class DraftNotFound(NotFound):
    def __init__(self, draft_id: int, user_id: int) -> None:
        super().__init__(f"draft {draft_id} not found or no longer under review for user {user_id}")
        self.draft_id = draft_id


class InvalidInput(ValueError):
    """A use case was given a value it refuses (empty name, too long, bad format)."""


# --- recipes ------------------------------------------------------------------------------


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("a recipe name cannot be empty")
    if len(cleaned) > NAME_MAX:
        raise InvalidInput(f"a recipe name has at most {NAME_MAX} characters")
    return cleaned


def _page_bounds(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(limit, MAX_PAGE)), max(0, offset)


async def save_recipe(
    db: Database,
    user_id: int,
    name: str,
    ingredients: Sequence[Ingredient],
    lang: Lang = "en",
) -> Recipe:
    """Store a recipe and its ingredients in one transaction (all or nothing)."""
    async with db.transaction() as repo:
        return await repo.add_recipe(user_id, clean_name(name), ingredients, lang)


async def list_recipes(
    db: Database, user_id: int, *, limit: int = 20, offset: int = 0
) -> Page[RecipeSummary]:
    limit, offset = _page_bounds(limit, offset)
    async with db.transaction() as repo:
        return await repo.list_recipes(user_id, limit=limit, offset=offset)


async def search_recipes(
    db: Database, user_id: int, query: str, *, limit: int = 10, offset: int = 0
) -> Page[RecipeSummary]:
    limit, offset = _page_bounds(limit, offset)
    async with db.transaction() as repo:
        return await repo.search_recipes(user_id, query, limit=limit, offset=offset)


async def get_recipe(db: Database, user_id: int, recipe_id: int) -> Recipe:
    async with db.transaction() as repo:
        recipe = await repo.get_recipe(user_id, recipe_id)
    if recipe is None:
        raise RecipeNotFound(recipe_id, user_id)
    return recipe


async def rename_recipe(db: Database, user_id: int, recipe_id: int, name: str) -> Recipe:
    async with db.transaction() as repo:
        recipe = await repo.rename_recipe(user_id, recipe_id, clean_name(name))
    if recipe is None:
        raise RecipeNotFound(recipe_id, user_id)
    return recipe


async def replace_ingredients(
    db: Database, user_id: int, recipe_id: int, ingredients: Sequence[Ingredient]
) -> Recipe:
    async with db.transaction() as repo:
        recipe = await repo.replace_ingredients(user_id, recipe_id, ingredients)
    if recipe is None:
        raise RecipeNotFound(recipe_id, user_id)
    return recipe


async def delete_recipe(db: Database, user_id: int, recipe_id: int) -> None:
    async with db.transaction() as repo:
        deleted = await repo.delete_recipe(user_id, recipe_id)
    if not deleted:
        raise RecipeNotFound(recipe_id, user_id)


# --- export -------------------------------------------------------------------------------

CSV_COLUMNS = (
    "recipe_id", "recipe", "lang", "created_at", "position", "quantity", "quantity_max",
    "unit", "unit_text", "name", "comment", "raw", "confidence",
)  # fmt: skip


async def export_recipes(db: Database, user_id: int, fmt: ExportFormat = "json") -> str:
    """All of a user's recipes as JSON (DESIGN.md §3 ingredient objects), CSV or Markdown."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r} (json, csv or md)")
    async with db.transaction() as repo:
        recipes = await repo.all_recipes(user_id)
    if fmt == "json":
        return recipes_to_json(recipes)
    if fmt == "csv":
        return recipes_to_csv(recipes)
    return recipes_to_markdown(recipes)


def recipes_to_json(recipes: Sequence[Recipe]) -> str:
    return json.dumps({"recipes": [r.to_json() for r in recipes]}, ensure_ascii=False, indent=2)


def recipes_to_csv(recipes: Sequence[Recipe]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for recipe in recipes:
        created = recipe.created_at.isoformat() if recipe.created_at else ""
        for position, i in enumerate(recipe.ingredients, start=1):
            writer.writerow(
                [recipe.id, recipe.name, recipe.lang, created, position,
                 _blank(i.quantity), _blank(i.quantity_max), _blank(i.unit),
                 _blank(i.unit_text), i.name, _blank(i.comment), i.raw, round(i.confidence, 3)]
            )  # fmt: skip
    return out.getvalue()


def _blank(value: Any) -> Any:
    return "" if value is None else value


def recipes_to_markdown(recipes: Sequence[Recipe]) -> str:
    blocks = []
    for recipe in recipes:
        lines = [f"## {recipe.name}", ""]
        lines += [f"- {format_ingredient(i, recipe.lang)}" for i in recipe.ingredients]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


# --- OCR archive --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArchiveReport:
    archived: int
    output: Path
    bytes_written: int


async def archive_ocr_entries(db: Database, older_than: timedelta, output: Path) -> ArchiveReport:
    """Move OCR entries older than `older_than` to a JSONL file (appended) and out of the
    database; recipes are untouched. The file is written and flushed before the commit."""
    cutoff = utcnow() - older_than
    async with db.transaction() as repo:
        entries = await repo.take_ocr_entries_before(cutoff)
        payload = "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in entries)
        if entries:
            with output.open("a", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
    return ArchiveReport(len(entries), output, len(payload.encode()))


# --- drafts (the review state of the bot) ---------------------------------------------------


async def create_draft(
    db: Database,
    user_id: int,
    chat_id: int,
    ingredients: Sequence[Ingredient],
    *,
    name: str | None = None,
    lang: Lang = "en",
    message_id: int | None = None,
    pages: Sequence[DraftPage] = (),
    recipe_id: int | None = None,
) -> Draft:
    """A new draft under review; `pages` are the photos its lines come from, `recipe_id` the
    saved recipe it edits (None for a new recipe)."""
    async with db.transaction() as repo:
        return await repo.create_draft(
            user_id, chat_id, ingredients,
            name=name, lang=lang, message_id=message_id, pages=pages, recipe_id=recipe_id,
        )  # fmt: skip


async def get_draft(db: Database, user_id: int, draft_id: int) -> Draft:
    async with db.transaction() as repo:
        draft = await repo.get_draft(user_id, draft_id)
    if draft is None:
        raise DraftNotFound(draft_id, user_id)
    return draft


async def current_draft(db: Database, user_id: int, chat_id: int) -> Draft | None:
    """The draft this user is reviewing in this chat, if any."""
    async with db.transaction() as repo:
        return await repo.latest_draft(user_id, chat_id)


async def update_draft(db: Database, user_id: int, draft_id: int, **changes: Any) -> Draft:
    """Change a draft under review: ingredients, name, lang, message_id, awaiting,
    pages. Saved or cancelled drafts cannot change (DraftNotFound)."""
    if "name" in changes and changes["name"] is not None:
        changes["name"] = clean_name(changes["name"])
    async with db.transaction() as repo:
        draft = await repo.get_draft(user_id, draft_id)
        if draft is None or draft.status is not DraftStatus.REVIEWING:
            raise DraftNotFound(draft_id, user_id)
        updated = await repo.update_draft(user_id, draft_id, **changes)
    assert updated is not None
    return updated


async def finish_draft(
    db: Database, user_id: int, draft_id: int, *, default_name: str = "Recipe"
) -> Recipe:
    """Confirm a draft: store it as a recipe and mark it saved, in one transaction."""
    async with db.transaction() as repo:
        draft = await repo.get_draft(user_id, draft_id)
        if draft is None or draft.status is not DraftStatus.REVIEWING:
            raise DraftNotFound(draft_id, user_id)
        name = clean_name(draft.name or default_name)
        recipe = await repo.add_recipe(user_id, name, draft.ingredients, draft.lang)
        await repo.update_draft(
            user_id, draft_id, status=DraftStatus.SAVED, awaiting=None, recipe_id=recipe.id
        )
    return recipe


async def cancel_draft(db: Database, user_id: int, draft_id: int) -> Draft:
    async with db.transaction() as repo:
        draft = await repo.get_draft(user_id, draft_id)
        if draft is None or draft.status is not DraftStatus.REVIEWING:
            raise DraftNotFound(draft_id, user_id)
        cancelled = await repo.update_draft(
            user_id, draft_id, status=DraftStatus.CANCELLED, awaiting=None
        )
    assert cancelled is not None
    return cancelled


# --- small state the bot keeps in the database ----------------------------------------------


async def claim_update(db: Database, update_id: int) -> bool:
    """True the first time a Telegram update id is seen (exactly-once handling)."""
    async with db.transaction() as repo:
        return await repo.claim_update(update_id)


async def receive_update(
    db: Database, update_id: int, payload: dict[str, Any], holder: str, lease: timedelta
) -> bool:
    """Claim a webhook update and keep it in the inbox until `finish_update` (so a process
    killed before handling it loses nothing); False for an update id already seen."""
    async with db.transaction() as repo:
        return await repo.receive_update(update_id, payload, holder, utcnow() + lease)


async def finish_update(db: Database, update_id: int) -> bool:
    async with db.transaction() as repo:
        return await repo.finish_update(update_id)


async def note_update_progress(db: Database, update_id: int, **progress: Any) -> None:
    """Remember what handling an inbox update has already shown the user."""
    async with db.transaction() as repo:
        await repo.note_progress(update_id, progress)


async def renew_update_leases(db: Database, holder: str, lease: timedelta) -> int:
    async with db.transaction() as repo:
        return await repo.renew_leases(holder, utcnow() + lease)


async def release_update_leases(db: Database, holder: str, update_ids: Sequence[int]) -> int:
    async with db.transaction() as repo:
        return await repo.release_leases(holder, update_ids)


async def take_stale_updates(
    db: Database, holder: str, lease: timedelta, limit: int = 50
) -> tuple[list[InboxEntry], datetime | None]:
    """The inbox updates whose holder stopped renewing its lease, now held by `holder`, and
    when the next lease of the inbox runs out."""
    now = utcnow()
    async with db.transaction() as repo:
        taken = await repo.take_stale_updates(holder, now, now + lease, limit)
        return taken, await repo.next_lease_end()


async def store_callback(db: Database, user_id: int, payload: dict[str, Any]) -> str:
    """A short key (≤ 64 bytes of callback data) standing for `payload`, owned by the user."""
    async with db.transaction() as repo:
        return await repo.put_callback(user_id, payload)


async def load_callback(db: Database, user_id: int, key: str) -> dict[str, Any] | None:
    """The payload behind `key` if this user owns it; None for forged or foreign keys."""
    async with db.transaction() as repo:
        return await repo.get_callback(user_id, key)


async def user_language(db: Database, user_id: int) -> Lang | None:
    async with db.transaction() as repo:
        value = await repo.get_language(user_id)
    if value == "fr":
        return "fr"
    return "en" if value == "en" else None


async def set_user_language(db: Database, user_id: int, lang: Lang) -> None:
    async with db.transaction() as repo:
        await repo.set_language(user_id, lang)


async def forget_old_state(db: Database, older_than: timedelta) -> tuple[int, int]:
    """Drop processed update ids and callback keys older than `older_than`; the counts."""
    cutoff = utcnow() - older_than
    async with db.transaction() as repo:
        updates = await repo.forget_updates_before(cutoff)
        callbacks = await repo.forget_callbacks_before(cutoff)
    return updates, callbacks


# --- scanning a photo ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a photo yielded: the OCR text and the ingredients parsed from it."""

    source: str
    sha256: str
    lang: Lang
    title: str | None
    text: str
    ingredients: tuple[Ingredient, ...]
    skipped: tuple[str, ...]
    cached: bool
    engine_seconds: float

    def to_json(self) -> dict[str, Any]:
        """The `--json` object of DESIGN.md §3."""
        return {
            "source": self.source,
            "lang": self.lang,
            "title": self.title,
            "text": self.text,
            "ingredients": [i.to_json() for i in self.ingredients],
        }


def _line_to_json(line: OcrLine) -> dict[str, Any]:
    return {"text": line.text, "bbox": line.bbox.as_list(), "confidence": line.confidence}


def _line_from_json(data: dict[str, Any]) -> OcrLine:
    return OcrLine(
        text=str(data["text"]),
        bbox=BoundingBox(*data["bbox"]),
        confidence=float(data["confidence"]),
    )


def attach_lines(parsed: ParsedText, lines: Sequence[OcrLine]) -> tuple[Ingredient, ...]:
    """Give each parsed ingredient the box of its source lines and the OCR's confidence.

    An ingredient is as doubtful as the least certain of the parser and the OCR of its lines.
    """
    out: list[Ingredient] = []
    for ingredient, indices in zip(parsed.ingredients, parsed.line_indices, strict=True):
        sources = [lines[i] for i in indices if 0 <= i < len(lines)]
        if not sources:
            out.append(ingredient)
            continue
        left = min(s.bbox.left for s in sources)
        top = min(s.bbox.top for s in sources)
        right = max(s.bbox.left + s.bbox.width for s in sources)
        bottom = max(s.bbox.top + s.bbox.height for s in sources)
        confidence = min(ingredient.confidence, *(s.confidence for s in sources))
        out.append(
            ingredient.with_changes(
                confidence=confidence, bbox=BoundingBox(left, top, right - left, bottom - top)
            )
        )
    return tuple(out)


async def scan_image(
    pool: OcrPool,
    image_bytes: bytes,
    *,
    lang: Lang | None = None,
    db: Database | None = None,
    user_id: int | None = None,
    source: str = "",
) -> ScanResult:
    """Read a photo and parse its ingredient list.

    With a database, the same image bytes read with the same OCR settings are served from
    the `ocr_entries` cache and new readings are stored there. Raises the typed refusals of
    `vision.intake` (`ImageRejected`) and the OCR errors of `vision.result` (`OcrError`,
    including `NoTextFound`); a text with no ingredient is a result with none.
    """
    sha256 = hashlib.sha256(image_bytes).hexdigest()
    key = pool.settings_key
    cached = None
    if db is not None:
        async with db.transaction() as repo:
            cached = await repo.cached_ocr(sha256, key)
    if cached is not None and cached.lines is not None:
        lines = tuple(_line_from_json(line) for line in cached.lines)
        text, seconds = cached.text, 0.0
    else:
        ocr = await pool.read(image_bytes)
        lines, text, seconds = ocr.lines, ocr.text, ocr.engine_seconds
        if db is not None:
            async with db.transaction() as repo:
                await repo.add_ocr_entry(
                    image_sha256=sha256,
                    settings_key=key,
                    text=text,
                    lines=[_line_to_json(line) for line in lines],
                    confidence=ocr.confidence,
                    engine_seconds=seconds,
                    owner=user_id,
                )
    # OCR text can be long and odd (a wide photo of one long "word"): parse it off the loop
    parsed = await asyncio.to_thread(parse_text, text, lang)
    return ScanResult(
        source=source,
        sha256=sha256,
        lang=parsed.lang,
        title=parsed.title,
        text=text,
        ingredients=attach_lines(parsed, lines),
        skipped=parsed.skipped,
        cached=cached is not None and cached.lines is not None,
        engine_seconds=seconds,
    )


# --- review edits (used by the bot) ----------------------------------------------------------

#: longest ingredient line accepted from a person (a caption or a message is up to 4096)
LINE_MAX = 300


class LineRejected(InvalidInput):
    """Text given as an ingredient line that holds no ingredient. ``code`` is a message key."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_ingredient_lines(text: str, lang: Lang | None = None) -> tuple[Ingredient, ...]:
    """Ingredients typed by a person (one or more lines) through the same parser as a photo.

    Raises LineRejected (`line_too_long`, `line_not_ingredient`, `line_no_name`)."""
    text = text.strip()
    if len(text) > LINE_MAX * 5 or any(len(line) > LINE_MAX for line in text.splitlines()):
        raise LineRejected("line_too_long", f"a line has at most {LINE_MAX} characters")
    parsed = parse_text(text, lang)
    if not parsed.ingredients:
        raise LineRejected("line_not_ingredient", "no ingredient in this text")
    named = tuple(i for i in parsed.ingredients if i.name.strip())
    if not named:
        raise LineRejected("line_no_name", "an amount without an ingredient name")
    return tuple(i.with_changes(confidence=1.0, bbox=None) for i in named)


async def apply_draft_to_recipe(
    db: Database, user_id: int, draft_id: int, recipe_id: int
) -> Recipe:
    """Confirm a draft opened to edit a saved recipe: its name and ingredients replace the
    recipe's, and the draft is marked saved, in one transaction."""
    async with db.transaction() as repo:
        draft = await repo.get_draft(user_id, draft_id)
        if draft is None or draft.status is not DraftStatus.REVIEWING:
            raise DraftNotFound(draft_id, user_id)
        recipe = await repo.get_recipe(user_id, recipe_id)
        if recipe is None:
            raise RecipeNotFound(recipe_id, user_id)
        if draft.name and draft.name != recipe.name:
            await repo.rename_recipe(user_id, recipe_id, clean_name(draft.name))
        updated = await repo.replace_ingredients(user_id, recipe_id, draft.ingredients)
        await repo.update_draft(
            user_id, draft_id, status=DraftStatus.SAVED, awaiting=None, recipe_id=recipe_id
        )
    if updated is None:
        raise RecipeNotFound(recipe_id, user_id)
    return updated


def is_database_error(error: BaseException | None) -> bool:
    """True for the database being unreachable or failing (the user is told to retry), so
    front ends classify errors without importing the storage layer's driver."""
    from sqlalchemy.exc import SQLAlchemyError

    from just_ingredients.storage import StorageError

    return isinstance(error, StorageError | SQLAlchemyError | ConnectionRefusedError)
