"""Send-time policies: one ordered set of rules every outgoing message passes through.

`decide` takes a message, what is known about its recipient at this moment, the
workspace's policies and `now`, and answers allow, defer until a time, or drop, always
with the reason. The dispatcher stores the answer on the contact's timeline.

Order: the rules that forbid a message outright come first (suppression, consent, a
disabled endpoint, a recent purchase); then the rules that only move it later (quiet
hours, frequency caps, the alert budget), which are applied together until the time
satisfies all of them; last, a message that would now arrive after its useful window is
dropped rather than sent late.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum

from pydantic import Field

from tidings.core.calendar import at_local, zone
from tidings.core.channels import ALERTS, MessageChannel
from tidings.core.duration import format_duration
from tidings.core.model import StrictModel
from tidings.core.pacing import (
    AfterPurchase,
    CapCounts,
    FrequencyCap,
    QuietHours,
    WorkflowCap,
    WorkflowPolicies,
)
from tidings.core.spec import ConsentStatus
from tidings.core.units import Duration

#: Consent statuses that withdraw a channel: even transactional messages stop.
WITHDRAWN = frozenset({ConsentStatus.UNSUBSCRIBED, ConsentStatus.BOUNCED, ConsentStatus.COMPLAINED})

#: Rounds of "move later" before giving up; each round satisfies at least one more rule.
_MAX_ROUNDS = 16


class Duplicates(StrictModel):
    """Drop a marketing message identical to one the contact got within `within`: the same
    channel, recipient, subject and body, as rendered (see `content_digest`). Two journeys
    must not send the same email twice in a row; two texts or two cart reminders that say
    different things both go."""

    within: Duration


class AlertBudget(StrictModel):
    """At most `per_day` internal alerts a day (in `timezone`); the rest wait for tomorrow."""

    per_day: int = Field(ge=1, le=100_000)


class Policies(StrictModel):
    """A workspace's send-time policies. Every rule is off until it is set."""

    caps: tuple[FrequencyCap, ...] = ()
    quiet_hours: QuietHours | None = None
    after_purchase: AfterPurchase | None = None
    duplicates: Duplicates | None = None
    alert_budget: AlertBudget | None = None
    #: The workspace's own timezone: the alert budget's day, and contacts with none set.
    timezone: str = "UTC"

    @property
    def history(self) -> timedelta:
        """How far back the contact's sends matter: the longest cap or duplicate window."""
        spans = [cap.per for cap in self.caps]
        if self.duplicates is not None:
            spans.append(self.duplicates.within)
        return max(spans, default=timedelta(0))


class Action(StrEnum):
    """What happens to a message now."""

    ALLOW = "allow"  #: send it now
    DEFER = "defer"  #: keep it, try again at `until`
    DROP = "drop"  #: never send it


@dataclass(frozen=True)
class Verdict:
    """A policy decision with its reason, as the contact's timeline shows it."""

    action: Action
    reason: str
    until: datetime | None = None
    rule: str = ""
    #: Whose rule decided: "workspace" or "workflow" (empty when no pacing rule did).
    policy: str = ""


@dataclass(frozen=True)
class Outgoing:
    """The message being decided."""

    id: int
    channel: str  # a MessageChannel value
    kind: str  # marketing, transactional, internal
    created_at: datetime
    priority: int = 0
    topic: str | None = None
    expires_at: datetime | None = None
    workflow_id: int | None = None

    @property
    def is_marketing(self) -> bool:
        """Marketing messages need consent and obey caps, quiet hours and purchase windows."""
        return self.kind == "marketing"

    @property
    def is_alert(self) -> bool:
        """Internal alerts to people in the business."""
        return self.channel in ALERTS

    def precedes(self, other: Rival) -> bool:
        """Whether this message goes before `other` when both want the same slot."""
        return (-self.priority, self.created_at, self.id) < (
            -other.priority,
            other.created_at,
            other.id,
        )


@dataclass(frozen=True)
class Rival:
    """Another marketing message for the same contact, due now and not yet decided."""

    id: int
    channel: str
    priority: int
    created_at: datetime
    workflow_id: int | None = None


@dataclass(frozen=True)
class Circumstances:
    """What the dispatcher knows about the recipient at this moment."""

    consent: Mapping[str, str]
    timezone: str | None = None
    suppressed: str | None = None  # why the address is on the suppression list
    endpoint_disabled: str | None = None  # why a webhook's endpoint no longer takes calls
    #: (when, channel) of the contact's marketing messages sent within the longest cap.
    sent: tuple[tuple[datetime, str], ...] = ()
    #: The part of `sent` that came from the message's own workflow.
    sent_in_workflow: tuple[tuple[datetime, str], ...] = ()
    rivals: tuple[Rival, ...] = ()
    last_purchase_at: datetime | None = None
    #: When the contact last performed each event a workflow's purchase window names.
    last_events: Mapping[str, datetime] = field(default_factory=dict)
    alerts_today: int = 0
    #: When the same message (equal `content_digest`) last went to the contact, if ever.
    same_sent_at: datetime | None = None


def content_digest(
    channel: str, recipient: str, subject: str | None, html: str | None, text: str | None
) -> str:
    """What the person receives, as one comparable value: a SHA-256 of the channel, the
    recipient, the subject and both bodies as rendered. Equal digests, same message."""
    # JSON keeps the fields apart: ("a", "bc") and ("ab", "c") must not collide.
    content = json.dumps([channel, recipient, subject, html, text], ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()


WORKSPACE = "workspace"
WORKFLOW = "workflow"


@dataclass(frozen=True)
class Rules:
    """The pacing rules one workflow's marketing messages obey, each with whose it is
    (`WORKSPACE` or `WORKFLOW`)."""

    caps: tuple[tuple[FrequencyCap, str], ...] = ()
    quiet_hours: tuple[tuple[QuietHours, str], ...] = ()
    after_purchase: tuple[tuple[AfterPurchase, str], ...] = ()
    #: The workflow is transactional: the workspace's pacing rules were left out.
    transactional: bool = False


def merge(policies: Policies, workflow: WorkflowPolicies | None = None) -> Rules:
    """The workspace's pacing rules (none when the workflow is transactional) followed by
    the workflow's own. Every rule applies, so a workflow's rules can only tighten."""
    own = workflow or WorkflowPolicies()
    mine: list[tuple[FrequencyCap, str]] = [(cap, WORKFLOW) for cap in own.frequency_caps]
    quiet = [(own.quiet_hours, WORKFLOW)] if own.quiet_hours is not None else []
    bought = [(own.after_purchase, WORKFLOW)] if own.after_purchase is not None else []
    if own.transactional:
        return Rules(tuple(mine), tuple(quiet), tuple(bought), transactional=True)
    theirs = [(cap, WORKSPACE) for cap in policies.caps]
    if policies.quiet_hours is not None:
        quiet.insert(0, (policies.quiet_hours, WORKSPACE))
    if policies.after_purchase is not None:
        bought.insert(0, (policies.after_purchase, WORKSPACE))
    return Rules(tuple(theirs + mine), tuple(quiet), tuple(bought))


def decide(
    message: Outgoing,
    facts: Circumstances,
    policies: Policies,
    now: datetime,
    workflow: WorkflowPolicies | None = None,
) -> Verdict:
    """Allow, defer or drop `message` now, and say why.

    `workflow` is the policies of the message's workflow, merged with the workspace's
    (see `merge`); the verdict's `policy` says whose rule held or dropped the message.
    """
    rules = merge(policies, workflow)
    refusal = _refusal(message, facts, policies, rules, now)
    if refusal is not None:
        return Verdict(Action.DROP, refusal[1], rule=refusal[0], policy=refusal[2])
    if message.expires_at is not None and now > message.expires_at:
        return Verdict(
            Action.DROP,
            f"its useful window ended at {_when(message.expires_at)}",
            rule="window",
        )

    at, reasons = now, list[Deferral]()
    for _ in range(_MAX_ROUNDS):
        moved = False
        for rule, later in _deferrals(message, facts, policies, rules, now, at):
            if later is not None and later > at:
                at, moved = later, True
                reasons.append(rule)
        if not moved:
            break
    if at == now:
        return Verdict(Action.ALLOW, _allowance(message, facts, rules, now), rule="allow")

    why = "; ".join(dict.fromkeys(r[1] for r in reasons))
    rule_name, policy = reasons[-1][0], reasons[-1][2]
    if message.expires_at is not None and at > message.expires_at:
        return Verdict(
            Action.DROP,
            f"{why}; the next allowed time {_when(at)} is after its useful window "
            f"({_when(message.expires_at)})",
            rule=rule_name,
            policy=policy,
        )
    return Verdict(
        Action.DEFER, f"{why}; deferred to {_when(at)}", until=at, rule=rule_name, policy=policy
    )


# ---------------------------------------------------------------- rules that drop


def _refusal(
    message: Outgoing, facts: Circumstances, policies: Policies, rules: Rules, now: datetime
) -> tuple[str, str, str] | None:
    """The rule that forbids the message, why, and whose rule it is; None if none does.

    Suppression, withdrawn consent and (for marketing) missing consent hold for every
    workflow, transactional or not: `transactional` only skips the pacing rules."""
    if facts.suppressed is not None:
        why = f"the address is on the suppression list ({facts.suppressed})"
        return "suppression", why, WORKSPACE
    if message.channel == MessageChannel.WEBHOOK:
        if facts.endpoint_disabled is not None:
            return "endpoint", f"the endpoint is disabled ({facts.endpoint_disabled})", WORKSPACE
        return None
    if message.is_alert:
        return None
    status = facts.consent.get(message.channel)
    if status in WITHDRAWN:
        return "consent", f"{message.channel} consent is {status}", WORKSPACE
    if not message.is_marketing:
        return None
    if status != ConsentStatus.SUBSCRIBED:
        why = f"no {message.channel} marketing consent (status: {status or 'unknown'})"
        return "consent", why, WORKSPACE
    if message.topic and facts.consent.get(f"topic:{message.topic}") in WITHDRAWN:
        return "consent", f"unsubscribed from the topic {message.topic!r}", WORKSPACE
    twin, last = policies.duplicates, facts.same_sent_at
    if twin is not None and last is not None and now - last < twin.within:
        why = f"the same message went to this contact at {_when(last)}, within {_span(twin.within)}"
        return "duplicate", why, WORKSPACE
    return _purchase_window(facts, rules, now)


def _purchase_window(
    facts: Circumstances, rules: Rules, now: datetime
) -> tuple[str, str, str] | None:
    """The purchase window the contact is in, if any."""
    for window, whose in rules.after_purchase:
        bought = facts.last_events.get(window.event)
        if whose == WORKSPACE:
            bought = facts.last_purchase_at
        if bought is not None and now - window.for_ < bought <= now:
            why = (
                f"the contact bought ({window.event}) at {_when(bought)}: marketing waits "
                f"{_span(window.for_)} after a purchase{_whose(whose)}"
            )
            return "after_purchase", why, whose
    return None


# ---------------------------------------------------------------- rules that defer


#: (rule, reason, whose rule: `WORKSPACE` or `WORKFLOW`).
Deferral = tuple[str, str, str]


def _deferrals(
    message: Outgoing,
    facts: Circumstances,
    policies: Policies,
    rules: Rules,
    now: datetime,
    at: datetime,
) -> list[tuple[Deferral, datetime | None]]:
    """Each deferring rule with the earliest time from `at` on that it allows."""
    found: list[tuple[Deferral, datetime | None]] = []
    if message.is_alert and policies.alert_budget is not None:
        found.append(_alert_budget(facts, policies, now, at))
    if not message.is_marketing:
        return found
    for quiet, whose in rules.quiet_hours:
        if message.channel in {c.value for c in quiet.channels}:
            (rule, why), later = _quiet_hours(quiet, facts.timezone or policies.timezone, at)
            found.append(((rule, why + _whose(whose), whose), later))
    for cap, whose in rules.caps:
        if cap.covers(message.channel):
            (rule, why), later = _cap(cap, message, facts, at)
            found.append(((rule, why + _whose(whose), whose), later))
    return found


def _quiet_hours(
    quiet: QuietHours, tz_name: str, at: datetime
) -> tuple[tuple[str, str], datetime | None]:
    """The end of the quiet spell `at` falls in, in the contact's wall-clock time."""
    tz = zone(tz_name)
    local = at.astimezone(tz)
    day, clock = local.date(), local.time()
    rule = ("quiet_hours", f"quiet hours {_hm(quiet.start)}-{_hm(quiet.end)} in {tz.key}")
    if quiet.start < quiet.end:  # within one day, e.g. 12:00-14:00
        inside = quiet.start <= clock < quiet.end
        end_day = day
    else:  # across midnight, e.g. 21:00-08:00
        inside = clock >= quiet.start or clock < quiet.end
        end_day = day + timedelta(days=1) if clock >= quiet.start else day
    if not inside:
        return rule, None
    return rule, at_local(end_day, quiet.end, tz)


def _cap(
    cap: FrequencyCap, message: Outgoing, facts: Circumstances, at: datetime
) -> tuple[tuple[str, str], datetime | None]:
    """The first time from `at` with a free slot under `cap` for this message.

    Messages that go before this one (higher priority, or older at the same priority)
    and are due now take their slots first, as if sent at `at`. A workflow's cap on its
    own messages counts only those, and competes only with them.
    """
    own = isinstance(cap, WorkflowCap) and cap.counts is CapCounts.WORKFLOW
    counted = facts.sent_in_workflow if own else facts.sent
    competing = [r for r in facts.rivals if not own or r.workflow_id == message.workflow_id]
    sends = sorted(when for when, channel in counted if cap.covers(channel))
    ahead = sum(1 for r in competing if cap.covers(r.channel) and not message.precedes(r))
    taken = sorted([*sends, *([at] * ahead)])
    in_window = [when for when in taken if when > at - cap.per]
    rule = ("cap", f"frequency cap of {cap.label}")
    if len(in_window) < cap.limit:
        return rule, None
    if ahead and len([w for w in sends if w > at - cap.per]) < cap.limit:
        rule = (
            "cap",
            f"the last free slot under the cap of {cap.label} goes to a higher-priority message",
        )
    return rule, in_window[-cap.limit] + cap.per


def _alert_budget(
    facts: Circumstances, policies: Policies, now: datetime, at: datetime
) -> tuple[Deferral, datetime | None]:
    """Tomorrow in the workspace's timezone, when today's alerts have used the budget."""
    budget = policies.alert_budget
    assert budget is not None
    why = f"the daily budget of {budget.per_day} internal alerts is spent"
    rule = ("alert_budget", why, WORKSPACE)
    tz = zone(policies.timezone)
    today = now.astimezone(tz).date()
    if facts.alerts_today < budget.per_day or at.astimezone(tz).date() > today:
        return rule, None
    tomorrow = today + timedelta(days=1)
    return rule, at_local(tomorrow, time(0, 0), tz)


# ---------------------------------------------------------------- reasons


def _allowance(message: Outgoing, facts: Circumstances, rules: Rules, now: datetime) -> str:
    if message.channel == MessageChannel.WEBHOOK:
        return "allowed: webhooks only stop for a disabled endpoint"
    if message.is_alert:
        return "allowed: internal alert"
    if not message.is_marketing:
        return f"allowed: {message.kind} messages skip marketing caps and quiet hours"

    def used(cap: FrequencyCap) -> int:
        own = isinstance(cap, WorkflowCap) and cap.counts is CapCounts.WORKFLOW
        counted = facts.sent_in_workflow if own else facts.sent
        return sum(1 for when, ch in counted if cap.covers(ch) and when > now - cap.per)

    counts = [f"{used(cap)} of {cap.label}" for cap, _ in rules.caps if cap.covers(message.channel)]
    allowed = "allowed: consent given" + (f"; {', '.join(counts)} already used" if counts else "")
    if rules.transactional:
        allowed += (
            "; the workflow is transactional: the workspace's caps, quiet hours and purchase "
            "window do not apply"
        )
    return allowed


def _whose(whose: str) -> str:
    """What a reason adds when the rule is the workflow's own."""
    return " (the workflow's own policy)" if whose == WORKFLOW else ""


def _hm(value: time) -> str:
    return value.strftime("%H:%M")


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _span(value: timedelta) -> str:
    return format_duration(value)
