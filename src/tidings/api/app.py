"""The ASGI application: `create_app` builds it around a database."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from tidings import __version__
from tidings.api import (
    admin,
    approval_links,
    browser,
    console,
    form_pages,
    health,
    inbound,
    ingest,
    links,
    preview_frames,
    session,
)
from tidings.api.audit import AuditTrail
from tidings.api.client_address import ForwardedClient
from tidings.api.committer import GroupCommitter
from tidings.api.cors import BrowserCors
from tidings.api.docs import install_docs
from tidings.api.errors import install_error_handlers
from tidings.api.keys import KeyCache
from tidings.api.login_throttle import LoginThrottle
from tidings.api.openapi import install_openapi, problems
from tidings.api.request_ids import RequestIdMiddleware
from tidings.api.throttle import DEFAULT_LINK_RATE, DEFAULT_SMS_RATE, RateLimit, limited
from tidings.api.url_gate import UrlGate
from tidings.clock import Clock, SystemClock
from tidings.config import (
    DEFAULT_BROWSER_ADDRESS_RATE,
    DEFAULT_BROWSER_KEY_RATE,
    DEFAULT_FORM_RATE,
)
from tidings.delivery.transports import Transports
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.journeys import DEFAULT_INGEST_JOURNEY_SECONDS, JourneyLimits
from tidings.runtime.loop import SchedulerLoop
from tidings.storage.workflows import Catalog

logger = logging.getLogger(__name__)

#: Ingest transactions in flight at once; more calls wait, then get 503.
DEFAULT_INGEST_SLOTS = 8
#: Test sends per person (or key): enough to iterate on a template, too few to mail a list.
DEFAULT_TEST_SEND_RATE = "5/minute;50/day"


def create_app(  # noqa: PLR0913 (the engine, then keyword-only options)
    engine: Engine,
    *,
    clock: Clock | None = None,
    catalog: Catalog | None = None,
    ingest_slots: int = DEFAULT_INGEST_SLOTS,
    scheduler: SchedulerLoop | None = None,
    dispatcher: Dispatcher | None = None,
    public_url: str = "http://localhost:8000",
    sms_token: str = "",
    sms_region: str | None = None,
    link_rate: str = DEFAULT_LINK_RATE,
    sms_rate: str = DEFAULT_SMS_RATE,
    trust_proxy: bool = False,
    journey_limits: JourneyLimits | None = None,
    browser_key_rate: str = DEFAULT_BROWSER_KEY_RATE,
    browser_address_rate: str = DEFAULT_BROWSER_ADDRESS_RATE,
    form_rate: str = DEFAULT_FORM_RATE,
    transports: Transports | None = None,
    test_send_rate: str = DEFAULT_TEST_SEND_RATE,
) -> FastAPI:
    """The Tidings HTTP API over `engine` (already migrated).

    With a `scheduler`, the app runs it in a thread for its lifetime; on shutdown the
    scheduler finishes and commits the batch in hand before the server exits. The loops
    are supervised (an exception ends a round, not the loop), and `/readyz` reports each.
    `link_rate` and `sms_rate` limit hits per client address on the public routes.
    `journey_limits` bound each render and the journeys of one ingest batch.
    `browser_key_rate` and `browser_address_rate` limit calls with public keys (web pages);
    `form_rate` the hosted forms' views and submissions per client address.
    `transports` (by default the dispatcher's) carry test sends, at most `test_send_rate`
    per person or key.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service: ingest.IngestService = app.state.ingest
        # One committer: ingest is CPU-bound Python, so more threads only take turns (measured).
        service.committer = GroupCommitter(service.store)
        thread = sending = None
        if scheduler is not None:
            thread = threading.Thread(target=scheduler.run, name="scheduler", daemon=True)
            thread.start()
        if dispatcher is not None:
            sending = threading.Thread(target=dispatcher.run, name="dispatcher", daemon=True)
            sending.start()
        try:
            yield
        finally:
            await run_in_threadpool(service.committer.close)
            service.committer = None
            if scheduler is not None and thread is not None:
                scheduler.stop.set()
                await run_in_threadpool(thread.join, 60)
                logger.info("scheduler stopped", extra={"action": "stop", "steps": scheduler.steps})
            if dispatcher is not None and sending is not None:
                dispatcher.stop.set()
                await run_in_threadpool(sending.join, 60)
                dispatcher.close()
                logger.info("dispatcher stopped", extra={"action": "stop"})
            app.state.readiness.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Tidings",
        version=__version__,
        description="Self-hosted marketing automation. Ingestion is Segment-compatible.",
        # A client posting to /v1/track/ must get an answer, never a redirect to follow.
        redirect_slashes=False,
        # FastAPI's pages load scripts from public CDNs: /docs is served from local files.
        docs_url=None,
        redoc_url=None,
    )
    app.state.ingest = ingest.IngestService(
        engine=engine,
        clock=clock or SystemClock(),
        catalog=catalog or Catalog(),
        keys=KeyCache(engine),
        slots=threading.BoundedSemaphore(ingest_slots),
        limits=journey_limits or JourneyLimits(batch_seconds=DEFAULT_INGEST_JOURNEY_SECONDS),
    )
    app.state.links = links.LinkService(
        engine=engine,
        clock=app.state.ingest.clock,
        catalog=app.state.ingest.catalog,
        public_url=public_url.rstrip("/"),
        sms_token=sms_token,
        sms_region=sms_region,
    )
    # The console's rendered email previews, each at a URL of its own (see preview_frames).
    app.state.preview_frames = preview_frames.FrameStore(engine, app.state.ingest.clock)
    app.state.browser = browser.BrowserGate(
        origins=browser.OriginCache(engine),
        public_url=public_url.rstrip("/"),
        per_key=RateLimit("browser-key", browser_key_rate),
        per_address=RateLimit("browser-address", browser_address_rate),
    )
    loops = [loop.health for loop in (scheduler, dispatcher) if loop is not None]
    if scheduler is not None:
        loops.insert(1, scheduler.sweeps_health)
    app.state.readiness = health.Readiness(engine, loops)
    app.state.auth = session.AuthSettings(
        throttle=LoginThrottle(app.state.ingest.clock), trust_proxy=trust_proxy
    )
    install_error_handlers(app)
    # Added last, so it runs first: the audit trail and every error see the request's id.
    app.add_middleware(AuditTrail, engine=engine, clock=app.state.ingest.clock)
    # Before any route or the audit trail reads the URL: a NUL in it would reach SQL.
    app.add_middleware(UrlGate)
    app.add_middleware(RequestIdMiddleware)
    # Before the limits and the access log read it: the client's address, one way for all.
    app.add_middleware(ForwardedClient)
    # Outermost: a preflight is answered before anything else, and every answer under /v1,
    # errors included, carries the CORS headers the page needs to read it.
    app.add_middleware(BrowserCors, origins=app.state.browser.origins)
    install_docs(app)
    install_openapi(app)
    app.include_router(health.router)
    app.include_router(ingest.router, responses=problems(401, 403, 413, 415, 429, 503))
    app.include_router(browser.router, responses=problems(400, 401, 403, 404, 429))
    # Anyone can call the public routes and each hit writes: limit them per address.
    sms_limit = RateLimit("sms", sms_rate)
    app.include_router(inbound.router, dependencies=[Depends(limited(sms_limit))])
    app.include_router(session.router, responses=problems(401, 429))
    app.include_router(admin.router, responses=problems(401, 403))
    # The link routes apply theirs themselves: a person's click or open is never refused.
    app.state.link_limit = RateLimit("links", link_rate)
    app.include_router(links.router)
    app.include_router(approval_links.router)
    app.include_router(preview_frames.router)
    # The hosted forms count their own: a form past the limit is shown, not counted.
    app.state.form_limit = RateLimit("forms", form_rate)
    app.state.transports = transports or (dispatcher.transports if dispatcher else None)
    app.state.test_send_limit = RateLimit("test-sends", test_send_rate)
    app.include_router(form_pages.router)
    # Last: the console answers every other GET path with its one page.
    app.include_router(console.make_router())
    return app
