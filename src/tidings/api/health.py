"""`/healthz` (the process answers) and `/readyz` (it can do its work), for load balancers
and supervisors. Neither asks for a key, so neither says more than which check failed:
error texts (hosts, SQL) go to the log, not to the body."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from tidings.api.errors import problem_response
from tidings.api.openapi import problems as problem_responses
from tidings.runtime.supervision import LoopHealth

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])

#: How long `/readyz` waits for the database to answer `SELECT 1` (seconds).
DATABASE_TIMEOUT = 2.0


@dataclass
class Readiness:
    """What `/readyz` checks: the database, and each loop this process runs."""

    engine: Engine
    loops: list[LoopHealth] = field(default_factory=list)
    timeout: float = DATABASE_TIMEOUT
    # One probe at a time in its own thread, so a database that hangs holds one thread,
    # however often the load balancer asks.
    _pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="readyz")
    )
    _probe: Future[None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def database_problem(self) -> str | None:
        """Why the database is not usable, or None when it answered in time."""
        with self._lock:
            if self._probe is None or self._probe.done():
                self._probe = self._pool.submit(self._select_one)
            probe = self._probe
        try:
            probe.result(timeout=self.timeout)
        except FutureTimeout:
            return f"database: no answer within {self.timeout:g} s"
        except Exception as exc:
            logger.warning("readiness: database unreachable: %s", exc, extra={"action": "readyz"})
            return "database: unreachable"
        return None

    def _select_one(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def problems(self) -> list[str]:
        """Every reason not to send traffic here; empty when ready."""
        found = []
        database = self.database_problem()
        if database is not None:
            found.append(database)
        for loop in self.loops:
            problem = loop.problem()
            if problem is not None:
                logger.warning(
                    "readiness: %s (last error: %s)",
                    problem,
                    loop.last_error,
                    extra={"action": "readyz", "loop": loop.name},
                )
                found.append(problem)
        return found

    def close(self) -> None:
        """Let the probe thread go (without waiting for a hung probe)."""
        self._pool.shutdown(wait=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive and serving HTTP. Touches nothing else."""
    return {"status": "ok"}


@router.get("/readyz", responses=problem_responses(503))
def readyz(request: Request) -> JSONResponse:
    """The database answers and each background loop had a good round recently.

    Not ready is a 503 problem document whose `problems` names each failed check."""
    readiness: Readiness = request.app.state.readiness
    problems = readiness.problems()
    checks = ["database", *(loop.name for loop in readiness.loops)]
    if problems:
        return problem_response(
            503, "Not ready", "; ".join(problems), extra={"checks": checks, "problems": problems}
        )
    return JSONResponse({"status": "ok", "checks": checks, "problems": []})
