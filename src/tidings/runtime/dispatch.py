"""The dispatcher: takes queued messages, applies send-time policies, sends, records.

Each round is three steps:

1. In one transaction: claim due messages (SKIP LOCKED on PostgreSQL), lock their
   recipients, decide each message's policy, compose the allowed ones, and mark them
   `sending` with a lease. Deferred and dropped messages are written with their reason.
2. Outside any transaction: hand each message to its channel.
3. In one transaction: record each outcome (sent, retry later with backoff, dead letter,
   bounce), but only for messages whose lease is still ours.

The one window where a send can happen twice: a worker stops after the channel accepted
a message and before step 3 commits. When its lease runs out, another worker sends the
message again and counts it in `resends` (and the step log says "resent"). Email keeps
its Message-ID and webhooks their `webhook-id` on the resend, so receivers can drop the
copy. A worker that stops anywhere else leaves nothing sent twice: before step 1 commits
its claim never happened; between steps 1 and 2 the message was not sent yet (it is
counted in `resends` all the same, because the next worker cannot tell the two apart).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row

from tidings.cleaning import to_e164
from tidings.clock import Clock
from tidings.config import Settings
from tidings.core.calendar import at_local, zone
from tidings.core.policies import Action, Circumstances, Outgoing, Verdict, decide
from tidings.delivery import compose
from tidings.delivery.netguard import NetGuard
from tidings.delivery.results import Bounce, Failed, Result, Sent
from tidings.delivery.settings import DeliverySettings, is_address
from tidings.delivery.sms import SmsChannel, SmsConfig
from tidings.delivery.smtp import SmtpChannel, SmtpConfig
from tidings.delivery.tokens import Purpose, make_token
from tidings.delivery.transports import HttpTransport, MailTransport, TextTransport
from tidings.delivery.webhooks import Call, HttpChannel, webhook_secret
from tidings.runtime import engagement
from tidings.runtime.transactions import transact
from tidings.storage import delivery, step_log
from tidings.storage.delivery import Lease
from tidings.storage.messages import MessageStatus
from tidings.storage.suppressions import suppressed
from tidings.storage.workflows import Catalog
from tidings.storage.workspaces import load_workspace

logger = logging.getLogger(__name__)


@dataclass
class Channels:
    """The channels this install can send through; a channel left unconfigured keeps its
    messages queued until it is configured."""

    public_url: str
    http: HttpTransport
    smtp: MailTransport | None = None
    sms: TextTransport | None = None
    sms_region: str | None = None
    dkim: tuple[str, bytes] | None = None  # (selector, private key PEM)

    @classmethod
    def from_settings(cls, settings: Settings) -> Channels:
        """The channels TIDINGS_* variables configure."""
        smtp_url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
        smtp = SmtpChannel(SmtpConfig.from_url(smtp_url)) if smtp_url else None
        sms = None
        if settings.sms_url:
            sms = SmsChannel(
                SmsConfig(
                    settings.sms_url,
                    settings.sms_account,
                    settings.sms_token.get_secret_value(),
                    settings.sms_from,
                    settings.sms_region,
                )
            )
        dkim = None
        if settings.dkim_selector and settings.dkim_key_file:
            dkim = (settings.dkim_selector, Path(settings.dkim_key_file).read_bytes())
        guard = NetGuard.from_list(settings.webhook_allow.split(","))
        return cls(settings.public_url, HttpChannel(guard), smtp, sms, settings.sms_region, dkim)

    def names(self) -> list[str]:
        """The message channels to claim."""
        found = ["webhook", "alert:slack"]
        if self.smtp is not None:
            found += ["email", "alert:email"]
        if self.sms is not None:
            found.append("sms")
        return found

    def close(self) -> None:
        """Close every connection."""
        self.http.close()
        if self.smtp is not None:
            self.smtp.close()
        if self.sms is not None:
            self.sms.close()


@dataclass
class _Workspace:
    id: int
    secret: str
    settings: DeliverySettings


@dataclass
class _Ready:
    """A message allowed and composed, waiting for its channel."""

    row: Row[Any]
    send: Callable[[], Result]
    lease: Lease
    #: Why the policies allowed it, for the timeline's "sent" line.
    allowed: str = ""


@dataclass
class Round:
    """What one round did."""

    claimed: int = 0
    sent: int = 0
    #: The rows of the messages sent (the simulator answers them).
    sent_rows: list[Row[Any]] = field(default_factory=list)
    deferred: int = 0
    dropped: int = 0
    retried: int = 0
    failed: int = 0


@dataclass
class Dispatcher:
    """Moves the outbox. `run_once` for one round; `run` loops until `stop` is set."""

    engine: Engine
    clock: Clock
    channels: Channels
    catalog: Catalog = field(default_factory=Catalog)
    batch: int = 100
    lease: timedelta = timedelta(minutes=5)
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(hours=1)
    max_attempts: int = 8
    jitter: Callable[[], float] = random.random
    max_idle: float = 1.0
    #: Seconds a workspace's settings are kept before being read again.
    settings_ttl: float = 5.0
    #: Messages sent at once in a round (each thread keeps its own connection).
    concurrency: int = 8
    stop: threading.Event = field(default_factory=threading.Event)
    totals: Round = field(default_factory=Round)
    _workspaces: dict[int, tuple[float, _Workspace]] = field(default_factory=dict)
    _pool: ThreadPoolExecutor | None = None

    # ---------------------------------------------------------------- the loop

    def run(self) -> Round:
        """Send until `stop` is set, sleeping when nothing is due."""
        while not self.stop.is_set():
            done = self.run_once()
            if done.claimed < self.batch:
                self.stop.wait(self.max_idle)
        return self.totals

    def run_until_idle(self) -> list[Row[Any]]:
        """Rounds until nothing is due at the clock's time (tests, the simulator); return
        the messages sent."""
        sent: list[Row[Any]] = []
        while True:
            done = self.run_once()
            sent += done.sent_rows
            if done.claimed < self.batch:
                return sent

    def run_once(self) -> Round:
        """Claim, decide, send, record: one round."""
        now = self.clock.now()
        ready, result = transact(self.engine, lambda conn: self._claim(conn, now))
        if ready:
            outcomes = list(zip(ready, self._send_all(ready), strict=True))
            sent, result.retried, result.failed = transact(
                self.engine, lambda conn: self._record(conn, outcomes)
            )
            result.sent, result.sent_rows = len(sent), sent
        self._add(result)
        return result

    def _add(self, part: Round) -> None:
        for name in ("claimed", "sent", "deferred", "dropped", "retried", "failed"):
            setattr(self.totals, name, getattr(self.totals, name) + getattr(part, name))

    def _send_all(self, ready: list[_Ready]) -> list[Result]:
        """Hand the round's messages to their channels, `concurrency` at a time."""
        if self.concurrency <= 1 or len(ready) == 1:
            return [self._send(item) for item in ready]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="send")
        return list(self._pool.map(self._send, ready))

    def close(self) -> None:
        """Stop the sending threads and close the channels' connections."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self.channels.close()

    @staticmethod
    def _send(item: _Ready) -> Result:
        started = time.perf_counter()
        try:
            return item.send()
        except Exception as exc:  # a channel bug must not lose the round's other outcomes
            # ("message" is a LogRecord attribute of its own: extra may not reuse it.)
            logger.exception("channel failed", extra={"message_id": item.row.id})
            return Failed(f"internal error while sending: {exc!r}")
        finally:
            logger.debug(
                "sent",
                extra={"message_id": item.row.id, "seconds": time.perf_counter() - started},
            )

    # ---------------------------------------------------------------- step 1: claim

    def _claim(self, conn: Connection, now: datetime) -> tuple[list[_Ready], Round]:
        result = Round()
        claimed = delivery.claim_messages(conn, now, self.batch, self.channels.names())
        result.claimed = len(claimed)
        if not claimed:
            return [], result
        by_workspace: dict[int, list[Row[Any]]] = defaultdict(list)
        for row in claimed:
            by_workspace[row.workspace_id].append(row)
        ready: list[_Ready] = []
        log: list[dict[str, Any]] = []
        outcomes: list[dict[str, Any]] = []
        for workspace_id, rows in by_workspace.items():
            workspace = self._workspace(conn, workspace_id)
            if workspace is None:
                continue
            ready += self._decide_all(conn, workspace, rows, now, log, outcomes, result)
        delivery.mark_sending(conn, [r.lease for r in ready], now, now + self.lease)
        delivery.set_outcomes(conn, outcomes)
        step_log.append_lines(conn, log)
        return ready, result

    def _workspace(self, conn: Connection, workspace_id: int) -> _Workspace | None:
        """The workspace's secret and settings, read again after `settings_ttl` seconds."""
        cached = self._workspaces.get(workspace_id)
        if cached is not None and time.monotonic() - cached[0] < self.settings_ttl:
            return cached[1]
        record = load_workspace(conn, workspace_id)
        if record is None:
            return None
        settings = DeliverySettings.model_validate(record.settings)
        found = _Workspace(record.id, record.secret, settings)
        self._workspaces[workspace_id] = (time.monotonic(), found)
        return found

    def _decide_all(
        self,
        conn: Connection,
        ws: _Workspace,
        rows: list[Row[Any]],
        now: datetime,
        log: list[dict[str, Any]],
        outcomes: list[dict[str, Any]],
        result: Round,
    ) -> list[_Ready]:
        policies = ws.settings.policies
        contact_ids = sorted({r.contact_id for r in rows})
        people = delivery.lock_contacts(conn, contact_ids)
        # Caps and duplicate checks need each contact's recent sends; caps also the
        # messages competing for a slot.
        recipients = delivery.Recipients()
        if policies.caps or policies.duplicates is not None:
            recipients = delivery.marketing_of(conn, contact_ids, now - policies.history, now)
        history, rivals = recipients.sent, recipients.due
        purchases: dict[int, datetime] = {}
        if policies.after_purchase is not None:
            purchases = delivery.last_events(conn, contact_ids, policies.after_purchase.event)
        alerts_today = 0
        if policies.alert_budget is not None and any(r.channel.startswith("alert:") for r in rows):
            tz = zone(policies.timezone)
            midnight = at_local(now.astimezone(tz).date(), datetime.min.time(), tz)
            alerts_today = delivery.alerts_since(conn, ws.id, midnight)
        addresses = [a for a in (_address(r) for r in rows) if a is not None]
        blocked = suppressed(conn, ws.id, addresses)
        gone = delivery.disabled_endpoints(
            conn, ws.id, [r.recipient for r in rows if r.channel == "webhook"]
        )

        decided: set[int] = set()
        ready: list[_Ready] = []
        order = sorted(rows, key=lambda r: (r.contact_id, -r.priority, r.created_at, r.id))
        for row in order:
            person = people.get(row.contact_id)
            address = _address(row)
            facts = Circumstances(
                consent=person.consent if person is not None else {},
                timezone=person.timezone if person is not None else None,
                suppressed=blocked.get(address) if address else None,
                endpoint_disabled=gone.get(row.recipient) if row.channel == "webhook" else None,
                sent=tuple((at, channel) for at, channel, _ in history.get(row.contact_id, ())),
                same_sent_at=max(
                    (
                        at
                        for at, channel, subject in history.get(row.contact_id, ())
                        if channel == row.channel and subject == row.subject
                    ),
                    default=None,
                ),
                rivals=tuple(
                    r
                    for r in rivals.get(row.contact_id, ())
                    if r.id != row.id and r.id not in decided
                ),
                last_purchase_at=purchases.get(row.contact_id),
                alerts_today=alerts_today,
            )
            verdict = decide(_outgoing(row), facts, policies, now)
            decided.add(row.id)
            prepared = None
            if verdict.action is Action.ALLOW:
                prepared = self._prepare(ws, row, now)
                if isinstance(prepared, str):
                    verdict = Verdict(Action.DROP, prepared, rule="address")
            if verdict.action is Action.ALLOW:
                assert isinstance(prepared, _Ready)
                prepared.allowed = verdict.reason
                ready.append(prepared)
                if row.kind == "marketing":
                    history[row.contact_id].append((now, row.channel, row.subject))
                if row.channel.startswith("alert:"):
                    alerts_today += 1
                if prepared.lease.recovered:
                    log.append(_line(ws.id, row, "resent", _RESENT, now))
            elif verdict.action is Action.DEFER:
                result.deferred += 1
                outcomes.append(
                    {
                        "b_id": row.id,
                        "status": MessageStatus.QUEUED,
                        "send_after": verdict.until,
                        "last_error": verdict.reason,
                        "lease_until": None,
                    }
                )
                log.append(_line(ws.id, row, "deferred", verdict.reason, now, rule=verdict.rule))
            else:
                result.dropped += 1
                outcomes.append(
                    {
                        "b_id": row.id,
                        "status": MessageStatus.DROPPED,
                        "last_error": verdict.reason,
                        "lease_until": None,
                    }
                )
                log.append(_line(ws.id, row, "dropped", verdict.reason, now, rule=verdict.rule))
        return ready

    # ---------------------------------------------------------------- composing

    def _prepare(self, ws: _Workspace, row: Row[Any], now: datetime) -> _Ready | str:
        """The send for an allowed message, or why it cannot be sent."""
        recovered = row.status == MessageStatus.SENDING
        payload = dict(row.payload or {})
        channel = row.channel
        if channel in ("email", "alert:email") and not is_address(row.recipient):
            # Goes into the To header and the SMTP envelope: nothing else may ride along.
            return f"{row.recipient!r} is not a valid email address"
        if channel == "email":
            return self._prepare_email(ws, row, payload, recovered, now)
        if channel == "alert:email":
            assert self.channels.smtp is not None
            smtp, sender = self.channels.smtp, ws.settings.sender
            message_id = _message_id(ws, row)
            first_line = next(iter((row.body_text or "").splitlines()), "")
            subject = f"Tidings alert: {first_line[:80]}"
            raw = compose.build_alert_email(
                row.recipient, subject, row.body_text or "", sender, message_id, now
            )
            return _Ready(
                row,
                lambda: smtp.send(sender.from_email, row.recipient, raw),
                Lease(row.id, payload, message_id, recovered),
            )
        if channel == "sms":
            assert self.channels.sms is not None
            sms = self.channels.sms
            number = to_e164(row.recipient, self.channels.sms_region)
            if number is None:
                return f"{row.recipient!r} is not a valid phone number"
            text = row.body_text or ""
            return _Ready(
                row, lambda: sms.send(number, text), Lease(row.id, payload, None, recovered)
            )
        if channel == "webhook":
            http = self.channels.http
            call = Call(
                str(payload.get("url") or row.recipient),
                str(payload.get("method") or "POST"),
                (row.body_text or "").encode(),
                {str(k): str(v) for k, v in (payload.get("headers") or {}).items()},
            )
            secret = webhook_secret(ws.secret)
            webhook_id = f"msg_{ws.id}_{row.id}"
            return _Ready(
                row,
                lambda: http.webhook(call, secret, webhook_id, now),
                Lease(row.id, payload, webhook_id, recovered),
            )
        if channel == "alert:slack":
            http = self.channels.http
            to = row.recipient
            url = (
                to
                if to.startswith(("https://", "http://"))
                else ws.settings.alerts.slack_webhook_url
            )
            if url is None:
                return (
                    "no Slack webhook URL: set alerts.slack_webhook_url in the workspace settings"
                )
            slack_channel = None if to.startswith(("https://", "http://")) else to
            text = row.body_text or ""
            return _Ready(
                row,
                lambda: http.slack(url, text, slack_channel),
                Lease(row.id, payload, None, recovered),
            )
        return f"the channel {channel!r} is not known"

    def _prepare_email(
        self,
        ws: _Workspace,
        row: Row[Any],
        payload: dict[str, Any],
        recovered: bool,
        now: datetime,
    ) -> _Ready:
        assert self.channels.smtp is not None
        smtp, sender, base = self.channels.smtp, ws.settings.sender, self.channels.public_url

        def token(purpose: Purpose, *parts: Any) -> str:
            return make_token(ws.id, ws.secret, purpose, *parts)

        links = compose.Links(
            open=f"{base}/t/o/{token(Purpose.OPEN, row.id)}",
            click=lambda i: f"{base}/t/c/{token(Purpose.CLICK, row.id, i)}",
            unsubscribe=f"{base}/u/{token(Purpose.UNSUBSCRIBE, row.id)}",
            preferences=f"{base}/p/{token(Purpose.PREFERENCES, row.contact_id)}",
        )
        # A resend keeps the Message-ID it had, so the receiver can tell it is a copy.
        message_id = row.provider_id or _message_id(ws, row)
        out = compose.Outgoing(
            message_id=message_id,
            to=row.recipient,
            subject=row.subject or "",
            html=row.body_html,
            text=row.body_text,
            marketing=row.kind == "marketing",
            postal_address=sender.postal_address,
            track=not payload.get("untracked"),
        )
        raw, tracked = compose.build_email(out, sender, links, now)
        if self.channels.dkim is not None:
            selector, key = self.channels.dkim
            raw = compose.dkim_sign(raw, selector, sender.domain, key)
        payload["links"] = tracked
        return _Ready(
            row,
            lambda: smtp.send(sender.from_email, row.recipient, raw),
            Lease(row.id, payload, message_id, recovered),
        )

    # ---------------------------------------------------------------- step 3: record

    def _record(
        self, conn: Connection, outcomes: Sequence[tuple[_Ready, Result]]
    ) -> tuple[list[Row[Any]], int, int]:
        """Write each outcome; return the messages sent, and how many were retried and
        given up."""
        now = self.clock.now()
        sent: list[Row[Any]] = []
        retried = failed = 0
        rows: list[dict[str, Any]] = []
        log: list[dict[str, Any]] = []
        still_ours = delivery.leased(
            conn, {item.row.id: item.row.attempts + 1 for item, _ in outcomes}
        )
        for item, outcome in outcomes:
            row = item.row
            if row.id not in still_ours:
                continue  # the lease ran out and another worker took the message over
            if isinstance(outcome, Sent):
                sent.append(row)
                change: dict[str, Any] = {"b_id": row.id, "status": MessageStatus.SENT}
                if outcome.provider_id and row.channel in ("sms", "alert:slack"):
                    change["provider_id"] = outcome.provider_id
                change.update(lease_until=None, last_error=None)
                rows.append(change)
                detail = f"{row.channel} to {row.recipient}; {item.allowed}"
                log.append(_line(row.workspace_id, row, "sent", detail, now))
                continue
            attempts = row.attempts + 1
            if outcome.permanent or attempts >= self.max_attempts:
                failed += 1
                why = (
                    outcome.error
                    if outcome.permanent
                    else f"gave up after {attempts} attempts: {outcome.error}"
                )
                rows.append(
                    {
                        "b_id": row.id,
                        "status": MessageStatus.FAILED,
                        "last_error": why,
                        "lease_until": None,
                    }
                )
                log.append(_line(row.workspace_id, row, "failed", why, now))
                self._after_failure(conn, row, outcome, now)
            else:
                retried += 1
                delay = delivery.retry_delay(
                    attempts, self.retry_base, self.retry_cap, self.jitter()
                )
                rows.append(
                    {
                        "b_id": row.id,
                        "status": MessageStatus.QUEUED,
                        "send_after": now + delay,
                        "last_error": outcome.error,
                        "lease_until": None,
                    }
                )
                retry_at = now + delay
                detail = (
                    f"attempt {attempts} failed ({outcome.error}); retry at {retry_at:%H:%M:%S}"
                )
                log.append(_line(row.workspace_id, row, "retrying", detail, now))
        delivery.set_outcomes(conn, rows)
        step_log.append_lines(conn, log)
        return sent, retried, failed

    def _after_failure(
        self, conn: Connection, row: Row[Any], outcome: Failed, now: datetime
    ) -> None:
        if outcome.gone:
            delivery.disable_endpoint(conn, row.workspace_id, row.recipient, "410 Gone", now)
        if outcome.bounce and row.channel in ("email", "sms"):
            engagement.bounced(
                conn,
                row.workspace_id,
                row.contact_id,
                row.channel,
                row.recipient,
                Bounce.HARD,
                outcome.error,
                now,
                self.catalog,
                message=row,
            )


_RESENT = (
    "sending again: the worker that had it stopped mid-send, so the first attempt may "
    "have reached the recipient"
)


def _address(row: Row[Any]) -> tuple[str, str] | None:
    if row.channel in ("email", "alert:email"):
        return ("email", row.recipient)
    if row.channel == "sms":
        return ("phone", row.recipient)
    return None


def _outgoing(row: Row[Any]) -> Outgoing:
    return Outgoing(
        id=row.id,
        channel=row.channel,
        kind=row.kind,
        created_at=row.created_at,
        priority=row.priority,
        topic=(row.payload or {}).get("topic"),
        expires_at=row.expires_at,
    )


def _message_id(ws: _Workspace, row: Row[Any]) -> str:
    return f"<{row.id}.{ws.id}.tidings@{ws.settings.sender.domain}>"


def _line(
    workspace_id: int, row: Row[Any], action: str, detail: str, now: datetime, **data: Any
) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "contact_id": row.contact_id,
        "enrollment_id": row.enrollment_id,
        "workflow_id": row.workflow_id,
        "version": None,
        "step_id": row.step_id,
        "action": action,
        "enters": False,
        "detail": detail,
        "data": {"message_id": row.id, **data},
        "at": now,
    }
