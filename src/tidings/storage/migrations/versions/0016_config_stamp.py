"""a stamp on each workspace that changes with its live workflows, scoring and segments

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "workspaces",
        sa.Column("config_stamp", sa.BigInteger(), nullable=False, server_default="0"),
    )
    # Each existing workspace gets a stamp of its own, as every later change gives it: a
    # stamp names one state of one database, never a state some other database shares.
    random = (
        "abs(random())"
        if op.get_bind().dialect.name == "sqlite"
        else ("floor(random() * 4611686018427387903)::bigint")
    )
    op.execute(f"UPDATE workspaces SET config_stamp = {random}")


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("config_stamp")
