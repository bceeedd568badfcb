"""inbox: webhook updates accepted and not yet handled

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

The webhook used to answer Telegram 200 and keep the update only in memory: a process
killed before handling it (an OOM kill mid-scan) lost it. Each update now gets an `inbox`
row, written with its `processed_updates` claim before the 200 and deleted once handled;
a row whose holder stopped renewing its lease is handled again by the next process.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=True),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox")),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_lease_until"), ["lease_until"], unique=False)


def downgrade() -> None:
    # updates still in the inbox are lost to the older code, which never replays them
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_lease_until"))
    op.drop_table("inbox")
