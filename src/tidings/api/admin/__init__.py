"""The admin API under /api: every route needs a secret key and sees only its workspace."""

from fastapi import APIRouter

from tidings.api.admin import (
    approvals,
    contacts,
    delivery,
    keys,
    messages,
    scoring,
    segments,
    workflows,
)

router = APIRouter(prefix="/api")
for _module in (workflows, contacts, segments, scoring, approvals, messages, keys, delivery):
    router.include_router(_module.router)
