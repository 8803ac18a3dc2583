"""Segment-compatible ingestion: /v1/track, identify, page, screen, group, alias and batch.

A 2xx means the events are committed, with the journeys they start or resume (those
past the batch's time for journeys are committed at their step, due at once, and the
scheduler runs them). A batch
answers 200 with the calls it rejected and why; only a wholly unreadable request fails.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from tidings.api.body import read_json
from tidings.api.browser import gate_of, read_call_from
from tidings.api.committer import GroupCommitter
from tidings.api.errors import ApiError
from tidings.api.keys import KeyCache, authenticate, presented_key
from tidings.api.segment_protocol import MAX_CALL_BYTES, Rejected
from tidings.clock import Clock
from tidings.core.problems import Problem
from tidings.runtime.ingest import Incoming, IngestReport, ingest
from tidings.runtime.journeys import DEFAULT_INGEST_JOURNEY_SECONDS, JourneyLimits
from tidings.runtime.merges import AliasCall
from tidings.runtime.supervision import is_outage
from tidings.storage.api_keys import KeyOwner
from tidings.storage.workflows import Catalog

logger = logging.getLogger(__name__)

#: The largest batch Segment's API accepts.
MAX_BATCH_BYTES = 500 * 1024
#: How long a call waits for a free ingest slot before the server says it is overloaded.
QUEUE_SECONDS = 2.0

router = APIRouter(prefix="/v1", tags=["ingestion"])


@dataclass
class IngestService:
    """What the ingestion routes share: the database, a clock, caches and the overload gate."""

    engine: Any
    clock: Clock
    catalog: Catalog
    keys: KeyCache
    slots: threading.BoundedSemaphore
    committer: GroupCommitter | None = None
    #: Each render's time, and the time a batch's journeys may hold the transaction.
    limits: JourneyLimits = field(
        default_factory=lambda: JourneyLimits(batch_seconds=DEFAULT_INGEST_JOURNEY_SECONDS)
    )

    def store(
        self,
        workspace_id: int,
        items: list[Incoming | AliasCall],
        *,
        then: Callable[[Connection], None] | None = None,
    ) -> IngestReport:
        """Commit the calls, and what `then` writes in the same transaction; 503 when every
        slot stays busy or the database is out of reach (locked, restarting, refusing
        connections)."""
        if not self.slots.acquire(timeout=QUEUE_SECONDS):
            raise _overloaded("every ingest slot is busy")
        try:
            return ingest(
                self.engine,
                workspace_id,
                items,
                self.clock,
                self.catalog,
                limits=self.limits,
                then=then,
            )
        except Exception as exc:
            # Locked, restarting, refusing connections, a dropped connection: nothing was
            # stored, and a 503 has the client send the calls again (duplicates are dropped).
            if is_outage(exc):
                raise _overloaded("the database is busy or unreachable") from exc
            raise
        finally:
            self.slots.release()


def _overloaded(why: str) -> ApiError:
    return ApiError(503, "Overloaded", f"{why}; retry shortly", headers={"Retry-After": "1"})


def _service(request: Request) -> IngestService:
    service: IngestService = request.app.state.ingest
    return service


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI for a JSON body the route reads itself (to judge each call alone)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_TIME = {"type": "string", "format": "date-time"}
_CALL_SCHEMA = _json_body(
    {
        "type": "object",
        "properties": {
            **{
                field: {"type": "string"}
                for field in (
                    "userId",
                    "anonymousId",
                    "messageId",
                    "previousId",
                    "event",
                    "name",
                    "groupId",
                    "writeKey",
                )
            },
            **{field: {"type": "object"} for field in ("properties", "traits", "context")},
            "timestamp": _TIME,
            "sentAt": _TIME,
        },
    }
)
_BATCH_SCHEMA = _json_body(
    {
        "type": "object",
        "required": ["batch"],
        "properties": {
            "batch": {"type": "array", "items": {"type": "object"}},
            "sentAt": _TIME,
            "writeKey": {"type": "string"},
        },
    }
)


async def _single(request: Request, call_type: str) -> dict[str, Any]:
    service = _service(request)
    body = await read_json(request, MAX_CALL_BYTES)
    # The key look-up may query the database and reading a call cleans emails and phone
    # numbers: both leave the event loop, which every other request shares.
    owner, call = await run_in_threadpool(_read_single, service, request, body, call_type)
    if service.committer is None:
        await run_in_threadpool(service.store, owner.workspace_id, [call])
    else:
        await asyncio.wrap_future(service.committer.submit(owner.workspace_id, call))
    return {"success": True}


def _read_single(
    service: IngestService, request: Request, body: Any, call_type: str
) -> tuple[KeyOwner, Incoming | AliasCall]:
    owner = authenticate(service.keys, request, body)
    gate_of(request).admit(request, owner, presented_key(request, body))
    call = read_call_from(owner, body, "", service.clock.now(), call_type)
    if isinstance(call, Rejected):
        raise ApiError(400, "Invalid call", problems=call.problems)
    return owner, call


def _route(call_type: str) -> Any:
    async def handle(request: Request) -> dict[str, Any]:
        return await _single(request, call_type)

    handle.__name__ = call_type
    handle.__doc__ = f"Record a Segment `{call_type}` call."
    return handle


for _call in ("track", "identify", "page", "screen", "group", "alias"):
    router.add_api_route(f"/{_call}", _route(_call), methods=["POST"], openapi_extra=_CALL_SCHEMA)
    # analytics.js (in a browser) posts each call to its first letter: /v1/t, /v1/p, ...
    router.add_api_route(f"/{_call[0]}", _route(_call), methods=["POST"], include_in_schema=False)


@router.post("/batch", openapi_extra=_BATCH_SCHEMA)
@router.post("/import", openapi_extra=_BATCH_SCHEMA, include_in_schema=False)
@router.post("/b", include_in_schema=False)  # analytics.js's batching delivery
async def batch(request: Request) -> dict[str, Any]:
    """Record up to 500 KB of calls; each bad call is rejected alone, with its reasons."""
    service = _service(request)
    body = await read_json(request, MAX_BATCH_BYTES)
    # Off the event loop, like a single call's: the key look-up and cleaning every call.
    owner, accepted, rejected = await run_in_threadpool(_read_batch, service, request, body)
    report, failed = IngestReport(), list[dict[str, Any]]()
    if accepted:
        report, failed = await run_in_threadpool(
            _store_isolated, service, owner.workspace_id, accepted
        )
        rejected = sorted([*rejected, *failed], key=lambda r: int(r["index"]))
    return {
        "success": True,
        "accepted": len(accepted) - len(failed),
        "duplicates": report.duplicates,
        "rejected": rejected,
    }


def _read_batch(
    service: IngestService, request: Request, body: Any
) -> tuple[KeyOwner, list[tuple[int, Incoming | AliasCall]], list[dict[str, Any]]]:
    owner = authenticate(service.keys, request, body)
    gate_of(request).admit(request, owner, presented_key(request, body))
    if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
        raise ApiError(
            400, "Invalid batch", problems=[Problem("batch", "expected a list of calls")]
        )
    received_at = service.clock.now()
    sent_at = body.get("sentAt")
    accepted: list[tuple[int, Incoming | AliasCall]] = []
    rejected: list[dict[str, Any]] = []
    for index, raw in enumerate(body["batch"]):
        if isinstance(raw, dict) and sent_at is not None and "sentAt" not in raw:
            raw = {**raw, "sentAt": sent_at}
        call = read_call_from(owner, raw, f"batch[{index}]", received_at)
        if isinstance(call, Rejected):
            rejected.append(_rejection(index, call))
        else:
            accepted.append((index, call))
    return owner, accepted, rejected


def _rejection(index: int, call: Rejected) -> dict[str, Any]:
    return {
        "index": index,
        "messageId": call.message_id,
        "errors": [{"path": p.path, "message": p.message} for p in call.problems],
    }


def _store_isolated(
    service: IngestService, workspace_id: int, calls: list[tuple[int, Incoming | AliasCall]]
) -> tuple[IngestReport, list[dict[str, Any]]]:
    """Store the batch in one transaction; if it fails for a reason other than load, store
    each call alone, so one call that breaks storage is rejected and the rest are kept.

    A 5xx for the whole batch would be retried by Segment's clients for ever, and would
    hold back every good call in it.
    """
    try:
        return service.store(workspace_id, [call for _, call in calls]), []
    except ApiError:
        # Overload or an outage (`store` turns both into a 503): the whole batch is sent
        # again later, and its duplicates dropped then. Rejections inside a 200 would be
        # lost, since Segment's clients never retry them.
        raise
    except Exception:
        logger.exception(
            "a batch failed to store; storing its calls one by one",
            extra={"action": "ingest_batch", "calls": len(calls)},
        )
    report, failed = IngestReport(), list[dict[str, Any]]()
    for index, call in calls:
        try:
            alone = service.store(workspace_id, [call])
        except ApiError:
            raise  # the database went away between two calls: the batch is sent again
        except Exception:
            logger.exception(
                "a call failed to store", extra={"action": "ingest_call", "index": index}
            )
            problem = Problem(
                f"batch[{index}]",
                "the call could not be stored (the error is logged on the server); "
                "the other calls were stored",
            )
            failed.append(_rejection(index, Rejected(call.message_id, [problem])))
            continue
        report.stored += alone.stored
        report.duplicates += alone.duplicates
        report.enrolled += alone.enrolled
    return report, failed
