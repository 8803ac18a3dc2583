"""the contact a test send was rendered for, so erasing the contact finds it; the audit
trail's test sends lose the address they were sent to (it stays on the test's own row,
which erasure finds, and the trail is not searched at erasure)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

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
    _drop_addresses_from_the_audit_trail()


def _drop_addresses_from_the_audit_trail() -> None:
    # Test sends started with 0014 and are limited per person and day: few rows to read.
    audit = sa.table(
        "audit_log", sa.column("id", Id), sa.column("action", sa.String), sa.column("details", Json)
    )
    bind = op.get_bind()
    found = bind.execute(
        sa.select(audit.c.id, audit.c.details).where(audit.c.action == "workflows.test_send")
    ).all()
    for row_id, details in found:
        if isinstance(details, dict) and "to" in details:
            kept = {k: v for k, v in details.items() if k != "to"}
            bind.execute(sa.update(audit).where(audit.c.id == row_id).values(details=kept))


def downgrade() -> None:
    # The addresses left the audit trail for good; nothing to restore.
    with op.batch_alter_table("test_sends") as batch:
        batch.drop_index(op.f("ix_test_sends_contact_id"))
        batch.drop_constraint(op.f("fk_test_sends_contact_id_contacts"), type_="foreignkey")
        batch.drop_column("contact_id")
