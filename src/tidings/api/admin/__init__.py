"""The admin API under /api: every route needs a secret key and sees only its workspace."""

from fastapi import APIRouter

from tidings.api.admin import (
    approvals,
    contact_data,
    contacts,
    delivery,
    keys,
    messages,
    reports,
    scoring,
    segments,
    workflows,
)

router = APIRouter(prefix="/api")
# contact_data before contacts: /contacts/duplicates must not be read as a contact id.
for _module in (
    workflows,
    contact_data,
    contacts,
    segments,
    scoring,
    approvals,
    messages,
    keys,
    delivery,
    reports,
):
    router.include_router(_module.router)
