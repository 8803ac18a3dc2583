"""The admin API under /api: every route needs a secret key or a session, and a role."""

from fastapi import APIRouter

from tidings.api.admin import (
    approvals,
    audit,
    blueprints,
    builder,
    contact_data,
    contacts,
    delivery,
    dry_runs,
    forms,
    keys,
    messages,
    moves,
    people,
    reports,
    schema,
    scoring,
    segments,
    test_sends,
    workflows,
)

router = APIRouter(prefix="/api")
# contact_data before contacts: /contacts/duplicates must not be read as a contact id.
for _module in (
    builder,
    workflows,
    dry_runs,
    moves,
    test_sends,
    contact_data,
    contacts,
    segments,
    scoring,
    approvals,
    messages,
    keys,
    delivery,
    reports,
    audit,
    blueprints,
    people,
    forms,
    schema,
):
    router.include_router(_module.router)
router.include_router(people.invitations)
