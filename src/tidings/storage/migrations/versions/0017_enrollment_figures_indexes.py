"""indexes on enrollments by moment of entry and of conversion, and of open journeys by
workflow, so the workflows list counts a period's journeys without reading every enrollment

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # converted_at rides along in the first so "of those who entered, how many converted"
    # is read from the index alone. Led by the moment, not by workflow_id: see
    # storage/list_figures.py.
    op.create_index(
        "ix_enrollments_entered", "enrollments", ["entered_at", "workflow_id", "converted_at"]
    )
    converted = sa.text("converted_at IS NOT NULL")
    op.create_index(
        "ix_enrollments_converted",
        "enrollments",
        ["converted_at", "workflow_id"],
        sqlite_where=converted,
        postgresql_where=converted,
    )
    # The same literal predicate as the open-journey index, so both databases match it.
    open_ = sa.text("status IN ('active', 'waiting')")
    op.create_index(
        "ix_enrollments_open_by_workflow",
        "enrollments",
        ["workflow_id", "status"],
        sqlite_where=open_,
        postgresql_where=open_,
    )


def downgrade() -> None:
    op.drop_index("ix_enrollments_open_by_workflow", table_name="enrollments")
    op.drop_index("ix_enrollments_converted", table_name="enrollments")
    op.drop_index("ix_enrollments_entered", table_name="enrollments")
