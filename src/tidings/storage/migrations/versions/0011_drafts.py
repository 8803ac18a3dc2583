"""workflow drafts: what the console's builder saves before publishing

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 23:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def UTCDateTime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workflow_drafts_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_drafts")),
        sa.UniqueConstraint(
            "workspace_id", "key", name=op.f("uq_workflow_drafts_workspace_id_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("workflow_drafts")
