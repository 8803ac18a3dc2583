"""Step 3 of a round: what the channels answered, written back to the outbox and the
timeline (sent, retry later with backoff, dead letter, bounce)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row

from tidings.core.channels import MessageChannel
from tidings.core.retry import retry_delay
from tidings.delivery.results import Bounce, Failed, Result, Sent
from tidings.runtime import engagement
from tidings.runtime.dispatching.round import Ready, Round, held_by, line
from tidings.storage import enrollments, outbox, step_log
from tidings.storage.messages import MessageStatus
from tidings.storage.outbox import MessageOutcome
from tidings.storage.workflows import Catalog


@dataclass(frozen=True)
class Retrying:
    """When a failed send is tried again, and when it is given up."""

    base: timedelta
    cap: timedelta
    max_attempts: int
    jitter: Callable[[], float]


def record(
    conn: Connection,
    outcomes: Sequence[tuple[Ready, Result]],
    still_ours: set[int],
    *,
    now: datetime,
    retrying: Retrying,
    catalog: Catalog,
) -> Round:
    """Write the outcomes of the messages `still_ours`; return the messages sent, and
    how many were retried and given up."""
    done = Round()
    rows: list[MessageOutcome] = []
    log: list[step_log.NewLine] = []
    released: list[tuple[int, str]] = []
    for item, outcome in outcomes:
        row = item.row
        if row.id not in still_ours:
            continue  # the lease ran out and another worker took the message over
        held = held_by(row)
        if held is not None and (isinstance(outcome, Sent) or _gives_up(outcome, row, retrying)):
            released.append(held)
        if isinstance(outcome, Sent):
            done.sent_rows.append(row)
            # Kept where the provider reports back by its own id (SMS status, Slack).
            reports_back = row.channel in (MessageChannel.SMS, MessageChannel.ALERT_SLACK)
            provider_id = outcome.provider_id if reports_back else None
            rows.append(MessageOutcome(row.id, MessageStatus.SENT, provider_id=provider_id or None))
            detail = f"{row.channel} to {row.recipient}; {item.allowed}"
            log.append(line(row.workspace_id, row, "sent", detail, now))
            continue
        attempts = row.attempts + 1
        if _gives_up(outcome, row, retrying):
            done.failed += 1
            why = (
                outcome.error
                if outcome.permanent
                else f"gave up after {attempts} attempts: {outcome.error}"
            )
            rows.append(MessageOutcome(row.id, MessageStatus.FAILED, last_error=why))
            log.append(line(row.workspace_id, row, "failed", why, now))
            _after_failure(conn, row, outcome, now, catalog)
        else:
            done.retried += 1
            delay = retry_delay(attempts, retrying.base, retrying.cap, retrying.jitter())
            retry_at = now + delay
            rows.append(
                MessageOutcome(
                    row.id, MessageStatus.QUEUED, last_error=outcome.error, send_after=retry_at
                )
            )
            detail = f"attempt {attempts} failed ({outcome.error}); retry at {retry_at:%H:%M:%S}"
            log.append(line(row.workspace_id, row, "retrying", detail, now))
    outbox.set_outcomes(conn, rows)
    step_log.append_lines(conn, log)
    enrollments.release_held(conn, released, now)
    return done


def _gives_up(outcome: Result, row: Row[Any], retrying: Retrying) -> bool:
    """Whether a failed send is final: permanent, or the last attempt allowed."""
    if isinstance(outcome, Sent):
        return False
    return outcome.permanent or row.attempts + 1 >= retrying.max_attempts


def _after_failure(
    conn: Connection, row: Row[Any], outcome: Failed, now: datetime, catalog: Catalog
) -> None:
    if outcome.gone:
        outbox.disable_endpoint(conn, row.workspace_id, row.recipient, "410 Gone", now)
    if outcome.bounce and row.channel in (MessageChannel.EMAIL, MessageChannel.SMS):
        engagement.bounced(
            conn,
            row.workspace_id,
            row.contact_id,
            channel=row.channel,
            address=row.recipient,
            kind=Bounce.HARD,
            reason=outcome.error,
            now=now,
            catalog=catalog,
            message=row,
        )
