"""Repository: every read and write of the database, as domain objects.

Every recipe and draft method takes the owner's Telegram id and filters on it, so one user
can never see or change another user's data through this API.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ScalarSelect, delete, func, select, text, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from just_ingredients.domain import Draft, DraftPage, DraftStatus, Ingredient, Lang, Recipe
from just_ingredients.storage import search
from just_ingredients.storage.tables import (
    CallbackKeyRow,
    DraftRow,
    InboxRow,
    IngredientRow,
    OcrEntryRow,
    ProcessedUpdateRow,
    RecipeRow,
    UserRow,
    utcnow,
)

T = TypeVar("T")
_EXTRA_KEYS = ("alternatives", "section", "bbox")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the total number of results across all pages."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True, slots=True)
class RecipeSummary:
    id: int
    name: str
    lang: Lang
    created_at: datetime | None
    ingredient_count: int


@dataclass(frozen=True, slots=True)
class OcrEntry:
    id: int
    image_sha256: str
    settings_key: str
    text: str
    lines: list[Any] | None = None
    confidence: float | None = None
    engine_seconds: float | None = None
    user_id: int | None = None  # the Telegram id, when known
    created_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "image_sha256": self.image_sha256,
            "settings_key": self.settings_key,
            "text": self.text,
            "lines": self.lines,
            "confidence": self.confidence,
            "engine_seconds": self.engine_seconds,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """An accepted update not yet fully handled (see `tables.InboxRow`)."""

    update_id: int
    payload: dict[str, Any]
    attempts: int
    progress: dict[str, Any]


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # --- users ------------------------------------------------------------------------

    def _user_id(self, telegram_id: int) -> ScalarSelect[int]:
        return select(UserRow.id).where(UserRow.telegram_id == telegram_id).scalar_subquery()

    async def _find_user(self, telegram_id: int) -> int | None:
        found = await self.session.scalar(
            select(UserRow.id).where(UserRow.telegram_id == telegram_id)
        )
        return None if found is None else int(found)

    async def ensure_user(self, telegram_id: int, language: str | None = None) -> int:
        """The internal id of the user with this Telegram id, created on first use."""
        insert = pg_insert if self._postgres else sqlite_insert
        await self.session.execute(
            insert(UserRow)
            .values(telegram_id=telegram_id, language=language, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["telegram_id"])
        )
        found = await self._find_user(telegram_id)
        assert found is not None
        return found

    async def get_language(self, telegram_id: int) -> str | None:
        value = await self.session.scalar(
            select(UserRow.language).where(UserRow.telegram_id == telegram_id)
        )
        return None if value is None else str(value)

    async def set_language(self, telegram_id: int, language: str) -> None:
        await self.ensure_user(telegram_id)
        await self.session.execute(
            update(UserRow).where(UserRow.telegram_id == telegram_id).values(language=language)
        )

    # --- recipes ----------------------------------------------------------------------

    async def add_recipe(
        self, owner: int, name: str, ingredients: Sequence[Ingredient], lang: Lang = "en"
    ) -> Recipe:
        user_id = await self.ensure_user(owner)
        now = utcnow()
        row = RecipeRow(
            user_id=user_id,
            name=name,
            lang=lang,
            search_text=_search_body(ingredients),
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        await self._insert_ingredients(row.id, ingredients)
        await self._index(row.id, name, row.search_text)
        return Recipe(row.id, owner, name, tuple(ingredients), lang, now)

    async def _insert_ingredients(self, recipe_id: int, ingredients: Sequence[Ingredient]) -> None:
        if not ingredients:
            return
        rows = [_ingredient_values(recipe_id, i, item) for i, item in enumerate(ingredients)]
        await self.session.execute(sa_insert(IngredientRow), rows)

    async def _index(self, recipe_id: int, name: str, body: str) -> None:
        if self._postgres:
            return  # the generated search_vector column follows the row
        await self.session.execute(
            text(search.SQLITE_UPSERT),
            {"id": recipe_id, "name": search.fold(name), "body": search.fold(body)},
        )

    async def _owned_recipe(self, owner: int, recipe_id: int) -> RecipeRow | None:
        return cast(
            RecipeRow | None,
            await self.session.scalar(
                select(RecipeRow).where(
                    RecipeRow.id == recipe_id, RecipeRow.user_id == self._user_id(owner)
                )
            ),
        )

    async def get_recipe(self, owner: int, recipe_id: int) -> Recipe | None:
        row = await self._owned_recipe(owner, recipe_id)
        if row is None:
            return None
        ingredients = await self._ingredients_of([row.id])
        return _recipe(row, owner, ingredients.get(row.id, ()))

    async def _ingredients_of(self, recipe_ids: Sequence[int]) -> dict[int, tuple[Ingredient, ...]]:
        out: dict[int, list[Ingredient]] = {}
        result = await self.session.scalars(
            select(IngredientRow)
            .where(IngredientRow.recipe_id.in_(recipe_ids))
            .order_by(IngredientRow.recipe_id, IngredientRow.position)
        )
        for row in result:
            out.setdefault(row.recipe_id, []).append(_ingredient(row))
        return {key: tuple(value) for key, value in out.items()}

    async def list_recipes(
        self, owner: int, *, limit: int = 20, offset: int = 0
    ) -> Page[RecipeSummary]:
        """The owner's recipes, newest first."""
        where = RecipeRow.user_id == self._user_id(owner)
        total = int(await self.session.scalar(select(func.count()).where(where)) or 0)
        ids = [
            int(i)
            for i in await self.session.scalars(
                select(RecipeRow.id)
                .where(where)
                .order_by(RecipeRow.created_at.desc(), RecipeRow.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ]
        return Page(await self._summaries(ids), total, limit, offset)

    async def _summaries(self, ids: Sequence[int]) -> tuple[RecipeSummary, ...]:
        if not ids:
            return ()
        counts = (
            select(IngredientRow.recipe_id, func.count().label("n"))
            .where(IngredientRow.recipe_id.in_(ids))
            .group_by(IngredientRow.recipe_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(RecipeRow.id, RecipeRow.name, RecipeRow.lang, RecipeRow.created_at, counts.c.n)
            .outerjoin(counts, counts.c.recipe_id == RecipeRow.id)
            .where(RecipeRow.id.in_(ids))
        )
        by_id = {
            r.id: RecipeSummary(r.id, r.name, _lang(r.lang), aware(r.created_at), int(r.n or 0))
            for r in rows
        }
        return tuple(by_id[i] for i in ids if i in by_id)

    async def all_recipes(self, owner: int) -> list[Recipe]:
        """Every recipe of the owner with its ingredients, oldest first (for export)."""
        rows = list(
            await self.session.scalars(
                select(RecipeRow)
                .where(RecipeRow.user_id == self._user_id(owner))
                .order_by(RecipeRow.created_at, RecipeRow.id)
            )
        )
        ingredients = await self._ingredients_of([r.id for r in rows]) if rows else {}
        return [_recipe(r, owner, ingredients.get(r.id, ())) for r in rows]

    async def rename_recipe(self, owner: int, recipe_id: int, name: str) -> Recipe | None:
        row = await self._owned_recipe(owner, recipe_id)
        if row is None:
            return None
        row.name = name
        row.updated_at = utcnow()
        await self.session.flush()
        await self._index(row.id, name, row.search_text)
        return await self.get_recipe(owner, recipe_id)

    async def replace_ingredients(
        self, owner: int, recipe_id: int, ingredients: Sequence[Ingredient]
    ) -> Recipe | None:
        row = await self._owned_recipe(owner, recipe_id)
        if row is None:
            return None
        await self.session.execute(delete(IngredientRow).where(IngredientRow.recipe_id == row.id))
        await self._insert_ingredients(row.id, ingredients)
        row.search_text = _search_body(ingredients)
        row.updated_at = utcnow()
        await self.session.flush()
        await self._index(row.id, row.name, row.search_text)
        return await self.get_recipe(owner, recipe_id)

    async def delete_recipe(self, owner: int, recipe_id: int) -> bool:
        result = await self.session.execute(
            delete(RecipeRow)
            .where(RecipeRow.id == recipe_id, RecipeRow.user_id == self._user_id(owner))
            .returning(RecipeRow.id)
        )
        deleted = result.scalar_one_or_none() is not None
        if deleted and not self._postgres:
            await self.session.execute(text(search.SQLITE_DELETE), {"id": recipe_id})
        return deleted

    async def search_recipes(
        self, owner: int, query: str, *, limit: int = 10, offset: int = 0
    ) -> Page[RecipeSummary]:
        """The owner's recipes whose name or ingredients match every word, best first."""
        user_id = await self._find_user(owner)
        if user_id is None:
            return Page((), 0, limit, offset)
        if self._postgres:
            if not search.words(query):
                return Page((), 0, limit, offset)
            params: dict[str, Any] = {"q": " ".join(search.words(query)), "owner": user_id}
            sql, count_sql = search.PG_SEARCH, search.PG_COUNT
        else:
            match = search.fts5_query(query)
            if match is None:
                return Page((), 0, limit, offset)
            params = {"q": match, "owner": user_id}
            sql, count_sql = search.SQLITE_SEARCH, search.SQLITE_COUNT
        found = await self.session.execute(text(sql), {**params, "limit": limit, "offset": offset})
        ids = [int(r.id) for r in found]
        if offset == 0 and len(ids) < limit:
            total = len(ids)
        else:
            total = int((await self.session.execute(text(count_sql), params)).scalar_one())
        return Page(await self._summaries(ids), total, limit, offset)

    # --- drafts -----------------------------------------------------------------------

    async def create_draft(
        self,
        owner: int,
        chat_id: int,
        ingredients: Sequence[Ingredient],
        *,
        name: str | None = None,
        lang: Lang = "en",
        message_id: int | None = None,
        pages: Sequence[DraftPage] = (),
        recipe_id: int | None = None,
    ) -> Draft:
        user_id = await self.ensure_user(owner)
        now = utcnow()
        row = DraftRow(
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            name=name,
            lang=lang,
            ingredients=[i.to_json() for i in ingredients],
            status=DraftStatus.REVIEWING.value,
            awaiting=None,
            pages=[p.to_json() for p in pages],
            recipe_id=recipe_id,
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _draft(row, owner)

    async def _owned_draft(self, owner: int, draft_id: int) -> DraftRow | None:
        return cast(
            DraftRow | None,
            await self.session.scalar(
                select(DraftRow).where(
                    DraftRow.id == draft_id, DraftRow.user_id == self._user_id(owner)
                )
            ),
        )

    async def get_draft(self, owner: int, draft_id: int) -> Draft | None:
        row = await self._owned_draft(owner, draft_id)
        return None if row is None else _draft(row, owner)

    async def latest_draft(
        self, owner: int, chat_id: int, status: DraftStatus = DraftStatus.REVIEWING
    ) -> Draft | None:
        """The owner's most recent draft in a chat with this status (the one being reviewed)."""
        row = await self.session.scalar(
            select(DraftRow)
            .where(
                DraftRow.user_id == self._user_id(owner),
                DraftRow.chat_id == chat_id,
                DraftRow.status == status.value,
            )
            .order_by(DraftRow.id.desc())
            .limit(1)
        )
        return None if row is None else _draft(row, owner)

    async def update_draft(self, owner: int, draft_id: int, **changes: Any) -> Draft | None:
        """Change fields of a draft: ingredients, name, lang, message_id, status, awaiting,
        pages, recipe_id."""
        allowed = {
            "ingredients",
            "name",
            "lang",
            "message_id",
            "status",
            "awaiting",
            "pages",
            "recipe_id",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"unknown draft fields: {sorted(unknown)}")
        row = await self._owned_draft(owner, draft_id)
        if row is None:
            return None
        if "ingredients" in changes:
            changes["ingredients"] = [i.to_json() for i in changes["ingredients"]]
        if "status" in changes:
            changes["status"] = DraftStatus(changes["status"]).value
        if "pages" in changes:
            changes["pages"] = [p.to_json() for p in changes["pages"]]
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        await self.session.flush()
        return _draft(row, owner)

    async def delete_draft(self, owner: int, draft_id: int) -> bool:
        result = await self.session.execute(
            delete(DraftRow)
            .where(DraftRow.id == draft_id, DraftRow.user_id == self._user_id(owner))
            .returning(DraftRow.id)
        )
        return result.scalar_one_or_none() is not None

    # --- OCR entries and cache ----------------------------------------------------------

    async def add_ocr_entry(
        self,
        *,
        image_sha256: str,
        settings_key: str,
        text: str,
        lines: list[Any] | None = None,
        confidence: float | None = None,
        engine_seconds: float | None = None,
        owner: int | None = None,
    ) -> OcrEntry:
        user_id = None if owner is None else await self.ensure_user(owner)
        row = OcrEntryRow(
            user_id=user_id,
            image_sha256=image_sha256,
            settings_key=settings_key,
            text=text,
            lines=lines,
            confidence=confidence,
            engine_seconds=engine_seconds,
            created_at=utcnow(),
        )
        self.session.add(row)
        await self.session.flush()
        return _ocr(row, owner)

    async def cached_ocr(self, image_sha256: str, settings_key: str) -> OcrEntry | None:
        """The latest OCR result of the same image with the same settings, if any."""
        row = await self.session.scalar(
            select(OcrEntryRow)
            .where(
                OcrEntryRow.image_sha256 == image_sha256,
                OcrEntryRow.settings_key == settings_key,
            )
            .order_by(OcrEntryRow.id.desc())
            .limit(1)
        )
        return None if row is None else _ocr(row, None)

    async def take_ocr_entries_before(self, cutoff: datetime) -> list[OcrEntry]:
        """Remove and return the OCR entries created before `cutoff`."""
        rows = await self.session.execute(
            select(OcrEntryRow, UserRow.telegram_id)
            .outerjoin(UserRow, UserRow.id == OcrEntryRow.user_id)
            .where(OcrEntryRow.created_at < cutoff)
            .order_by(OcrEntryRow.id)
        )
        entries = [_ocr(row, telegram_id) for row, telegram_id in rows]
        if entries:
            await self.session.execute(
                delete(OcrEntryRow).where(OcrEntryRow.id.in_([e.id for e in entries]))
            )
        return entries

    # --- processed updates (exactly-once) ---------------------------------------------

    async def claim_update(self, update_id: int) -> bool:
        """Record a Telegram update id; False if it was already recorded."""
        insert = pg_insert if self._postgres else sqlite_insert
        result = await self.session.execute(
            insert(ProcessedUpdateRow)
            .values(update_id=update_id, processed_at=utcnow())
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(ProcessedUpdateRow.update_id)
        )
        return result.scalar_one_or_none() is not None

    async def forget_updates_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedUpdateRow)
            .where(ProcessedUpdateRow.processed_at < cutoff)
            .returning(ProcessedUpdateRow.update_id)
        )
        return len(result.all())

    # --- inbox (webhook updates accepted, not yet handled) ----------------------------

    async def receive_update(
        self, update_id: int, payload: dict[str, Any], holder: str, lease_until: datetime
    ) -> bool:
        """Claim the update id and keep the update until `finish_update`; False (and
        nothing kept) for an update id already seen."""
        if not await self.claim_update(update_id):
            return False
        self.session.add(
            InboxRow(
                update_id=update_id,
                payload=payload,
                holder=holder,
                lease_until=lease_until,
                attempts=1,
                received_at=utcnow(),
            )
        )
        await self.session.flush()
        return True

    async def finish_update(self, update_id: int) -> bool:
        result = await self.session.execute(
            delete(InboxRow).where(InboxRow.update_id == update_id).returning(InboxRow.update_id)
        )
        return result.scalar_one_or_none() is not None

    async def note_progress(self, update_id: int, progress: dict[str, Any]) -> None:
        """Merge `progress` into what the handling of `update_id` has already done."""
        row = await self.session.get(InboxRow, update_id)
        if row is not None:
            row.progress = {**(row.progress or {}), **progress}
            await self.session.flush()

    async def renew_leases(self, holder: str, lease_until: datetime) -> int:
        result = await self.session.execute(
            update(InboxRow)
            .where(InboxRow.holder == holder)
            .values(lease_until=lease_until)
            .returning(InboxRow.update_id)
        )
        return len(result.all())

    async def release_leases(self, holder: str, update_ids: Sequence[int]) -> int:
        """Let any process take these updates now (a stopping process that did not finish)."""
        if not update_ids:
            return 0
        result = await self.session.execute(
            update(InboxRow)
            .where(InboxRow.holder == holder, InboxRow.update_id.in_(list(update_ids)))
            .values(lease_until=datetime(2000, 1, 1, tzinfo=UTC))
            .returning(InboxRow.update_id)
        )
        return len(result.all())

    async def take_stale_updates(
        self, holder: str, now: datetime, lease_until: datetime, limit: int = 50
    ) -> list[InboxEntry]:
        """Take over (holder, lease, attempts + 1) the updates whose lease ran out, oldest
        first. PostgreSQL skips rows another process is taking at the same moment."""
        query = (
            select(InboxRow)
            .where(InboxRow.lease_until < now)
            .order_by(InboxRow.update_id)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        rows = list(await self.session.scalars(query))
        for row in rows:
            row.holder = holder
            row.lease_until = lease_until
            row.attempts += 1
        await self.session.flush()
        return [
            InboxEntry(row.update_id, dict(row.payload), row.attempts, dict(row.progress or {}))
            for row in rows
        ]

    async def next_lease_end(self) -> datetime | None:
        """When the earliest lease of the inbox runs out (None when the inbox is empty)."""
        return aware(await self.session.scalar(select(func.min(InboxRow.lease_until))))

    # --- callback keys ----------------------------------------------------------------

    async def put_callback(self, owner: int, payload: dict[str, Any]) -> str:
        """Store a payload behind a short random key (fits Telegram's 64-byte callback data)."""
        key = secrets.token_urlsafe(9)
        self.session.add(
            CallbackKeyRow(key=key, owner_telegram_id=owner, payload=payload, created_at=utcnow())
        )
        await self.session.flush()
        return key

    async def get_callback(self, owner: int, key: str) -> dict[str, Any] | None:
        """The payload behind `key`, only for the user who owns it."""
        payload = await self.session.scalar(
            select(CallbackKeyRow.payload).where(
                CallbackKeyRow.key == key, CallbackKeyRow.owner_telegram_id == owner
            )
        )
        return None if payload is None else dict(payload)

    async def forget_callbacks_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(CallbackKeyRow)
            .where(CallbackKeyRow.created_at < cutoff)
            .returning(CallbackKeyRow.key)
        )
        return len(result.all())


# --- row ↔ domain ---------------------------------------------------------------------


def _lang(value: str) -> Lang:
    return "fr" if value == "fr" else "en"


def _search_body(ingredients: Sequence[Ingredient]) -> str:
    return search.body_text(part for i in ingredients for part in (i.name, i.comment))


def _ingredient_values(recipe_id: int, position: int, item: Ingredient) -> dict[str, Any]:
    as_json = item.to_json()
    extra = {key: as_json[key] for key in _EXTRA_KEYS if key in as_json}
    return {
        "recipe_id": recipe_id,
        "position": position,
        "quantity": item.quantity,
        "quantity_max": item.quantity_max,
        "unit": item.unit,
        "unit_text": item.unit_text,
        "name": item.name,
        "comment": item.comment,
        "raw": item.raw,
        "confidence": item.confidence,
        "extra": extra or None,
    }


def _ingredient(row: IngredientRow) -> Ingredient:
    data: dict[str, Any] = dict(row.extra or {})
    data.update(
        quantity=row.quantity,
        quantity_max=row.quantity_max,
        unit=row.unit,
        unit_text=row.unit_text,
        name=row.name,
        comment=row.comment,
        raw=row.raw,
        confidence=row.confidence,
    )
    return Ingredient.from_json(data)


def _recipe(row: RecipeRow, owner: int, ingredients: tuple[Ingredient, ...]) -> Recipe:
    return Recipe(row.id, owner, row.name, ingredients, _lang(row.lang), aware(row.created_at))


def _draft(row: DraftRow, owner: int) -> Draft:
    return Draft(
        id=row.id,
        user_id=owner,
        chat_id=row.chat_id,
        ingredients=tuple(Ingredient.from_json(i) for i in row.ingredients),
        name=row.name,
        lang=_lang(row.lang),
        message_id=row.message_id,
        status=DraftStatus(row.status),
        awaiting=row.awaiting,
        pages=tuple(DraftPage.from_json(p) for p in row.pages),
        recipe_id=row.recipe_id,
        created_at=aware(row.created_at),
    )


def _ocr(row: OcrEntryRow, owner: int | None) -> OcrEntry:
    return OcrEntry(
        id=row.id,
        image_sha256=row.image_sha256,
        settings_key=row.settings_key,
        text=row.text,
        lines=row.lines,
        confidence=row.confidence,
        engine_seconds=row.engine_seconds,
        user_id=owner,
        created_at=aware(row.created_at),
    )
