"""the contact a test send was rendered for, so erasing the contact finds it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: a test rendered for no contact has none, and the tests sent before this
    # revision did not record it (erasure still finds those sent to the contact's address).
    with op.batch_alter_table("test_sends") as batch:
        batch.add_column(sa.Column("contact_id", Id, nullable=True))
        batch.create_foreign_key(
            op.f("fk_test_sends_contact_id_contacts"), "contacts", ["contact_id"], ["id"]
        )
        batch.create_index(op.f("ix_test_sends_contact_id"), ["contact_id"])


def downgrade() -> None:
    with op.batch_alter_table("test_sends") as batch:
        batch.drop_index(op.f("ix_test_sends_contact_id"))
        batch.drop_constraint(op.f("fk_test_sends_contact_id_contacts"), type_="foreignkey")
        batch.drop_column("contact_id")
