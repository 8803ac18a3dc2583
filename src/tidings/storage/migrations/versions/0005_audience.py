"""audience: segments and their members, named lead scores and their ledger

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def UTCDateTime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("refreshed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_segments_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("workspace_id", "key", name=op.f("uq_segments_workspace_id_key")),
    )
    op.create_table(
        "segment_members",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", Id, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_segment_members_segment_id_segments")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_segment_members_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_segment_members_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("segment_id", "contact_id", name=op.f("pk_segment_members")),
    )
    op.create_index(
        op.f("ix_segment_members_contact_id"), "segment_members", ["contact_id"], unique=False
    )

    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("scoring", Json, nullable=False, server_default="{}"))
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("scores", Json, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("scored_at", UTCDateTime(), nullable=True))
        batch.create_index(batch.f("ix_contacts_scored_at"), ["scored_at"], unique=False)
        batch.create_index(
            batch.f("ix_contacts_workspace_id_timezone"), ["workspace_id", "timezone"], unique=False
        )
        batch.create_index(
            batch.f("ix_contacts_workspace_id_phone"), ["workspace_id", "phone"], unique=False
        )
    op.create_table(
        "score_awards",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", Id, nullable=False),
        sa.Column("score", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("awarded_at", UTCDateTime(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_score_awards_workspace_id_workspaces"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_score_awards_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_awards")),
    )
    op.create_index(
        op.f("ix_score_awards_contact_id_score"), "score_awards", ["contact_id", "score"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_score_awards_contact_id_score"), table_name="score_awards")
    op.drop_table("score_awards")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index(batch.f("ix_contacts_workspace_id_phone"))
        batch.drop_index(batch.f("ix_contacts_workspace_id_timezone"))
        batch.drop_index(batch.f("ix_contacts_scored_at"))
        batch.drop_column("scored_at")
        batch.drop_column("scores")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("scoring")
    op.drop_index(op.f("ix_segment_members_contact_id"), table_name="segment_members")
    op.drop_table("segment_members")
    op.drop_table("segments")
