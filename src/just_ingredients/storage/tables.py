"""SQLAlchemy tables (DESIGN.md §3 "Database").

Portable across PostgreSQL and SQLite. The full-text search structures are backend specific
and live only in the migrations (see `search.py`): a generated `tsvector` column with a GIN
index on PostgreSQL, an FTS5 table on SQLite. `SEARCH_OBJECTS` names them so that
autogenerate comparisons leave them alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAME_MAX = 200
INGREDIENT_NAME_MAX = 200
RAW_MAX = 1000

#: backend-specific search objects created by the migrations, not by these models
SEARCH_OBJECTS = frozenset({"search_vector", "ix_recipes_search_vector", "recipe_search"})

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RecipeRow(Base):
    __tablename__ = "recipes"
    __table_args__ = (
        CheckConstraint(f"length(name) BETWEEN 1 AND {NAME_MAX}", name="name_length"),
        CheckConstraint("lang IN ('en', 'fr')", name="lang"),
        Index(None, "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    lang: Mapped[str] = mapped_column(String(2))
    #: ingredient names and comments, one per line: the body that search indexes
    search_text: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IngredientRow(Base):
    __tablename__ = "ingredients"
    __table_args__ = (
        CheckConstraint(f"length(name) <= {INGREDIENT_NAME_MAX}", name="name_length"),
        CheckConstraint(f"length(raw) <= {RAW_MAX}", name="raw_length"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence"),
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity"),
    )

    recipe_id: Mapped[int] = mapped_column(
        ForeignKey("recipes.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    quantity: Mapped[float | None] = mapped_column(Float)
    quantity_max: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(16))
    unit_text: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(INGREDIENT_NAME_MAX))
    comment: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    #: the rest of `Ingredient.to_json()` (alternatives, section, bbox)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OcrEntryRow(Base):
    """OCR results; also the OCR cache (same image sha256 + same settings key)."""

    __tablename__ = "ocr_entries"
    __table_args__ = (
        Index(None, "image_sha256", "settings_key"),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    image_sha256: Mapped[str] = mapped_column(String(64))
    settings_key: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    lines: Mapped[list[Any] | None] = mapped_column(JSON)
    confidence: Mapped[float | None] = mapped_column(Float)
    engine_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DraftRow(Base):
    __tablename__ = "drafts"
    __table_args__ = (
        CheckConstraint("status IN ('reviewing', 'saved', 'cancelled')", name="status"),
        Index(None, "user_id", "chat_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    lang: Mapped[str] = mapped_column(String(2))
    ingredients: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    awaiting: Mapped[str | None] = mapped_column(String(32))
    #: [{"sha256": …, "file_id": …}] per photo (domain.DraftPage)
    pages: Mapped[list[Any]] = mapped_column(JSON)
    #: the recipe being edited, or the one the draft became once saved
    recipe_id: Mapped[int | None] = mapped_column(ForeignKey("recipes.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProcessedUpdateRow(Base):
    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class InboxRow(Base):
    """A Telegram update accepted from the webhook and not yet fully handled (the inbox).

    Written in the same transaction as its `processed_updates` claim, before Telegram gets
    its 200; deleted once handled. The process handling it holds a lease (`holder`,
    `lease_until`) and renews it; a row whose lease ran out (the process was killed) is taken
    by the next process that looks and handled again, at most a few `attempts`."""

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: the update as Telegram sent it
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    holder: Mapped[str] = mapped_column(String(64))
    lease_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: times handling started (1 at receipt)
    attempts: Mapped[int] = mapped_column(Integer)
    #: what handling has already shown the user (e.g. the "Reading…" message id of a photo)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CallbackKeyRow(Base):
    """Short callback-data keys (Telegram allows 64 bytes) → JSON payload, owned by a user."""

    __tablename__ = "callback_keys"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_telegram_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


metadata = Base.metadata
