"""keyed suppression hashes and reason codes

Existing entries are plain SHA-256 (hash_version 1): they cannot be re-keyed without the
address, so they stay and are still matched until the identifier is suppressed again.
Their free-text reasons (a bounce's text can hold the address and a name) become codes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("suppressions") as batch:
        batch.add_column(
            sa.Column("hash_version", sa.Integer(), nullable=False, server_default="1")
        )
    op.execute(
        """
        UPDATE suppressions SET reason = CASE
            WHEN reason LIKE 'bounced:%' OR reason LIKE 'hard:%' THEN 'hard_bounce'
            WHEN reason LIKE 'complained:%' OR reason LIKE 'complaint%' THEN 'complaint'
            WHEN reason LIKE 'erased%' THEN 'erased'
            ELSE 'manual'
        END
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("suppressions") as batch:
        batch.drop_column("hash_version")
