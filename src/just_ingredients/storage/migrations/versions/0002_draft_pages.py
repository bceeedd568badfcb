"""drafts: pages and the recipe being edited get their own columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Until now the bot kept, in the JSON list `drafts.image_sha256`, strings
`page:<sha256>:<telegram file_id>` (one per photo of the draft) and `recipe:<id>` (a draft
opened to edit a saved recipe). They become:
- `drafts.pages`: JSON list of `{"sha256": …, "file_id": …}`, in order (a bare sha256 of
  older drafts becomes a page with an empty file_id);
- `drafts.recipe_id` (already there: the recipe a saved draft became): also the recipe a
  draft under review edits. A `recipe:<id>` whose recipe is gone is dropped (the foreign key
  would refuse it; the old code answered "recipe gone" for it anyway).
The downgrade writes them back into `image_sha256` (`recipe:<id>` for drafts under review).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

drafts = sa.table(
    "drafts",
    sa.column("id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("image_sha256", sa.JSON()),
    sa.column("pages", sa.JSON()),
    sa.column("recipe_id", sa.Integer()),
)
recipes = sa.table("recipes", sa.column("id", sa.Integer()))


def _batch() -> Any:
    # SQLite rebuilds the table (its CHECK, foreign keys and index are reflected and kept)
    return op.batch_alter_table("drafts")


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):  # a driver that hands JSON back as text
        value = json.loads(value)
    return list(value or [])


def split_refs(refs: list[Any]) -> tuple[list[dict[str, str]], int | None]:
    """`image_sha256` entries → (pages, id of the recipe being edited)."""
    pages: list[dict[str, str]] = []
    recipe_id = None
    for ref in refs:
        ref = str(ref)
        parts = ref.split(":", 2)
        if len(parts) == 3 and parts[0] == "page":
            pages.append({"sha256": parts[1], "file_id": parts[2]})
        elif ref.startswith("recipe:") and ref[7:].isdigit():
            recipe_id = int(ref[7:])
        elif ref:
            pages.append({"sha256": ref, "file_id": ""})
    return pages, recipe_id


def join_refs(pages: list[Any], recipe_id: int | None) -> list[str]:
    refs = [
        f"page:{p['sha256']}:{p['file_id']}" if p.get("file_id") else str(p["sha256"])
        for p in pages
    ]
    if recipe_id is not None:
        refs.append(f"recipe:{recipe_id}")
    return refs


def upgrade() -> None:
    with _batch() as batch_op:
        batch_op.add_column(sa.Column("pages", sa.JSON(), nullable=True))
    bind = op.get_bind()
    existing = {r.id for r in bind.execute(sa.select(recipes.c.id))}
    rows = bind.execute(sa.select(drafts.c.id, drafts.c.image_sha256, drafts.c.recipe_id))
    for row in rows.fetchall():
        pages, edited = split_refs(_as_list(row.image_sha256))
        values: dict[str, Any] = {"pages": pages}
        if row.recipe_id is None and edited in existing:
            values["recipe_id"] = edited
        bind.execute(sa.update(drafts).where(drafts.c.id == row.id).values(**values))
    with _batch() as batch_op:
        batch_op.alter_column("pages", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("image_sha256")


def downgrade() -> None:
    with _batch() as batch_op:
        batch_op.add_column(sa.Column("image_sha256", sa.JSON(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(drafts.c.id, drafts.c.status, drafts.c.pages, drafts.c.recipe_id))
    for row in rows.fetchall():
        edited = row.recipe_id if row.status == "reviewing" else None
        refs = join_refs(_as_list(row.pages), edited)
        bind.execute(sa.update(drafts).where(drafts.c.id == row.id).values(image_sha256=refs))
    with _batch() as batch_op:
        batch_op.alter_column("image_sha256", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("pages")
