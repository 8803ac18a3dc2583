"""the console's rendered email previews, kept in the database so that any server behind a
load balancer can show a frame another one rendered

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def UTCDateTime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "preview_frames",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_preview_frames_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_preview_frames")),
    )
    op.create_index(op.f("ix_preview_frames_expires_at"), "preview_frames", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_preview_frames_expires_at"), table_name="preview_frames")
    op.drop_table("preview_frames")
