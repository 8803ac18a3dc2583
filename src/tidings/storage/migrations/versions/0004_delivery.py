"""delivery: workspace secrets and settings, message leases and policy fields, endpoints

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:10:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def UTCDateTime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("secret", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("settings", Json, nullable=False, server_default="{}"))
    conn = op.get_bind()
    table = sa.table("workspaces", sa.column("id", sa.Integer), sa.column("secret", sa.String))
    for (workspace_id,) in conn.execute(sa.select(table.c.id)).all():
        conn.execute(
            table.update()
            .where(table.c.id == workspace_id)
            .values(secret=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("lease_until", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("resends", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("provider_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("opened_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("clicked_at", UTCDateTime(), nullable=True))
        # The recipient index gains the send time (caps read recent sends): no new index
        # on the outbox's hot insert path.
        batch.drop_index(op.f("ix_messages_contact_id"))
        batch.create_index(op.f("ix_messages_contact_id_sent_at"), ["contact_id", "sent_at"])
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_endpoints_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoints")),
        sa.UniqueConstraint("workspace_id", "url", name=op.f("uq_endpoints_workspace_id_url")),
    )


def downgrade() -> None:
    op.drop_table("endpoints")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index(op.f("ix_messages_contact_id_sent_at"))
        batch.create_index(op.f("ix_messages_contact_id"), ["contact_id"])
        for column in (
            "clicked_at",
            "opened_at",
            "provider_id",
            "resends",
            "lease_until",
            "expires_at",
            "priority",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("settings")
        batch.drop_column("secret")
