"""The admin API under /api: every route needs a secret key and sees only its workspace."""

from fastapi import APIRouter

from tidings.api.admin import approvals, contacts, keys, messages, workflows

router = APIRouter(prefix="/api")
for _module in (workflows, contacts, approvals, messages, keys):
    router.include_router(_module.router)
