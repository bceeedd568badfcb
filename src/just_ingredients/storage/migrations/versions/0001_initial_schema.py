"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Tables of DESIGN.md §3 plus the backend-specific search structures (see storage/search.py):
PostgreSQL gets unaccent, ji_fold() and a generated tsvector with a GIN index; SQLite an FTS5 table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "callback_keys",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("owner_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_callback_keys")),
    )
    with op.batch_alter_table("callback_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_keys_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_processed_updates_processed_at"), ["processed_at"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_users_telegram_id")),
    )
    op.create_table(
        "ocr_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("settings_key", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("engine_seconds", sa.Float(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ocr_entries_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocr_entries")),
    )
    with op.batch_alter_table("ocr_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ocr_entries_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ocr_entries_image_sha256_settings_key"),
            ["image_sha256", "settings_key"],
            unique=False,
        )

    op.create_table(
        "recipes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("lang IN ('en', 'fr')", name=op.f("ck_recipes_lang")),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 200", name=op.f("ck_recipes_name_length")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recipes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipes")),
    )
    with op.batch_alter_table("recipes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recipes_user_id_created_at"), ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("ingredients", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("awaiting", sa.String(length=32), nullable=True),
        sa.Column("image_sha256", sa.JSON(), nullable=False),
        sa.Column("recipe_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('reviewing', 'saved', 'cancelled')", name=op.f("ck_drafts_status")
        ),
        sa.ForeignKeyConstraint(
            ["recipe_id"],
            ["recipes.id"],
            name=op.f("fk_drafts_recipe_id_recipes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_drafts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
    )
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_drafts_user_id_chat_id_status"),
            ["user_id", "chat_id", "status"],
            unique=False,
        )

    op.create_table(
        "ingredients",
        sa.Column("recipe_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("quantity_max", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("unit_text", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name=op.f("ck_ingredients_confidence")
        ),
        sa.CheckConstraint("length(name) <= 200", name=op.f("ck_ingredients_name_length")),
        sa.CheckConstraint("length(raw) <= 1000", name=op.f("ck_ingredients_raw_length")),
        sa.CheckConstraint(
            "quantity IS NULL OR quantity >= 0", name=op.f("ck_ingredients_quantity")
        ),
        sa.ForeignKeyConstraint(
            ["recipe_id"],
            ["recipes.id"],
            name=op.f("fk_ingredients_recipe_id_recipes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("recipe_id", "position", name=op.f("pk_ingredients")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _create_pg_search()
    else:
        op.execute(FTS5_TABLE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_recipes_search_vector", table_name="recipes")
        op.drop_column("recipes", "search_vector")
        op.execute("DROP FUNCTION IF EXISTS ji_fold(text)")
    else:
        op.execute("DROP TABLE IF EXISTS recipe_search")
    op.drop_table("ingredients")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drafts_user_id_chat_id_status"))

    op.drop_table("drafts")
    with op.batch_alter_table("recipes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recipes_user_id_created_at"))

    op.drop_table("recipes")
    with op.batch_alter_table("ocr_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocr_entries_image_sha256_settings_key"))
        batch_op.drop_index(batch_op.f("ix_ocr_entries_created_at"))

    op.drop_table("ocr_entries")
    op.drop_table("users")
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_updates_processed_at"))

    op.drop_table("processed_updates")
    with op.batch_alter_table("callback_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_keys_created_at"))

    op.drop_table("callback_keys")


FTS5_TABLE = (
    "CREATE VIRTUAL TABLE recipe_search USING fts5("
    "name, body, tokenize = 'porter unicode61 remove_diacritics 2')"
)

#: IMMUTABLE so that a generated column may call it; unaccent() itself is only STABLE
PG_FOLD = """
CREATE OR REPLACE FUNCTION ji_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT replace(replace(replace(replace(replace(
    public.unaccent('public.unaccent'::regdictionary, lower(value)),
    'œ', 'oe'), 'æ', 'ae'), 'ß', 'ss'), 'ﬁ', 'fi'), '’', ' ')
$$
"""

PG_SEARCH_VECTOR = """
ALTER TABLE recipes ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('simple'::regconfig, ji_fold(name)), 'A')
  || setweight(to_tsvector(CASE lang WHEN 'fr' THEN 'french'::regconfig
                                     ELSE 'english'::regconfig END, ji_fold(name)), 'A')
  || setweight(to_tsvector('simple'::regconfig, ji_fold(search_text)), 'B')
  || setweight(to_tsvector(CASE lang WHEN 'fr' THEN 'french'::regconfig
                                     ELSE 'english'::regconfig END, ji_fold(search_text)), 'B')
) STORED
"""


def _create_pg_search() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public")
    op.execute(PG_FOLD)
    op.execute(PG_SEARCH_VECTOR)
    op.execute("CREATE INDEX ix_recipes_search_vector ON recipes USING gin (search_vector)")
