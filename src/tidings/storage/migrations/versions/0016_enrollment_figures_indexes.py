"""indexes on enrollments by workflow and moment of entry or conversion, so the workflows
list counts the journeys of a period without reading every enrollment

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 07:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # converted_at rides along in the first so "of those who entered, how many converted"
    # is read from the index alone.
    op.create_index(
        "ix_enrollments_entered", "enrollments", ["workflow_id", "entered_at", "converted_at"]
    )
    op.create_index("ix_enrollments_converted", "enrollments", ["workflow_id", "converted_at"])


def downgrade() -> None:
    op.drop_index("ix_enrollments_converted", table_name="enrollments")
    op.drop_index("ix_enrollments_entered", table_name="enrollments")
