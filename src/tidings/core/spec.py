"""Workflow specifications: what a workflow file may say, as pydantic models.

A workflow is data (YAML or JSON). The models here only describe its shape; the rules that
need the whole workflow (reachable steps, loops, known fields) live in `validate`.
"""

from __future__ import annotations

from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from tidings.core.channels import Channel
from tidings.core.model import StrictModel
from tidings.core.moment import parse_moment
from tidings.core.pacing import WorkflowPolicies
from tidings.core.units import Duration, LocalTime


class Weekday(StrEnum):
    """A day of the week as written in workflow files."""

    MON = "mon"  #: Monday
    TUE = "tue"  #: Tuesday
    WED = "wed"  #: Wednesday
    THU = "thu"  #: Thursday
    FRI = "fri"  #: Friday
    SAT = "sat"  #: Saturday
    SUN = "sun"  #: Sunday


# ---------------------------------------------------------------- triggers


class EventTrigger(StrictModel):
    """Start when the contact performs an event that meets `where`."""

    type: Literal["event"] = "event"
    event: str
    where: str | None = None


class DateTrigger(StrictModel):
    """Start every year on a date stored on the contact (birthday), at a local time."""

    type: Literal["date"]
    field: str
    at: LocalTime = time(9, 0)
    offset_days: int = Field(0, ge=-366, le=366)


class InactivityTrigger(StrictModel):
    """Start when the contact has not performed `event` (any event if unset) for a while."""

    type: Literal["inactivity"]
    event: str | None = None
    for_: Duration = Field(alias="for")


class SegmentTrigger(StrictModel):
    """Start when the contact enters (or leaves) a segment."""

    type: Literal["segment"]
    segment: str = Field(min_length=1, max_length=64)
    # Not `on:`, which YAML 1.1 reads as the boolean true.
    direction: Literal["enter", "exit"] = "enter"

    @property
    def event(self) -> str:
        """The event that announces it."""
        return "segment_entered" if self.direction == "enter" else "segment_exited"


class ScoreTrigger(StrictModel):
    """Start when a lead score crosses one of the scoring model's thresholds."""

    type: Literal["score"]
    threshold: str = Field(min_length=1, max_length=64)
    direction: Literal["up", "down"] = "up"


class FormTrigger(StrictModel):
    """Start when the contact submits the form `form` (its `form_submitted` event)."""

    type: Literal["form"]
    form: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")

    @property
    def event(self) -> str:
        """The event that announces it."""
        return "form_submitted"


class EnrolledTrigger(StrictModel):
    """Start only when another workflow's `enroll` step enrolls the contact."""

    type: Literal["enrolled"]


Trigger = Annotated[
    EventTrigger
    | DateTrigger
    | InactivityTrigger
    | SegmentTrigger
    | ScoreTrigger
    | FormTrigger
    | EnrolledTrigger,
    Field(discriminator="type"),
]


# ---------------------------------------------------------------- entry, exit, goal


class Reentry(StrEnum):
    """When a contact who was in the workflow before may enter again."""

    ONCE = "once"  #: never again
    ALWAYS = "always"  #: whenever they are not in it right now
    PERIOD = "period"  #: once per `period`, counted from their last entry
    PER_KEY = "per_key"  #: once per value of `key` (such as the cart id)


class PerKey(StrEnum):
    """Under `reentry: per_key`, whether a key's journey may ever start again."""

    ONCE = "once"  #: one journey per key, ever (the meaning `per_key` always had)
    ONE_AT_A_TIME = "one_at_a_time"  #: never two at once; again once the last one ended


class Entry(StrictModel):
    """Who may enter, and how often."""

    when: str | None = None
    reentry: Reentry = Reentry.ONCE
    period: Duration | None = None
    key: str | None = None
    per_key: PerKey = PerKey.ONCE

    @model_validator(mode="after")
    def _policy_has_its_setting(self) -> Entry:
        if self.reentry is Reentry.PERIOD and self.period is None:
            raise ValueError("reentry: period needs `period`, like period: 30d")
        if self.reentry is Reentry.PER_KEY and not self.key:
            raise ValueError("reentry: per_key needs `key`, like key: event.cart_id")
        if self.per_key is not PerKey.ONCE and self.reentry is not Reentry.PER_KEY:
            raise ValueError(
                "per_key: one_at_a_time applies to reentry: per_key; set reentry: per_key"
                " (with key:) or remove per_key"
            )
        return self


class ExitRule(StrictModel):
    """Leave the workflow when an event arrives (`event`) or the contact meets `when`."""

    event: str | None = None
    where: str | None = None
    when: str | None = None

    @model_validator(mode="after")
    def _event_or_when(self) -> ExitRule:
        if (self.event is None) == (self.when is None):
            raise ValueError("an exit rule needs either `event` or `when`, not both")
        if self.where is not None and self.event is None:
            raise ValueError("`where` filters an exit event; add `event`")
        return self


class Goal(StrictModel):
    """The event that counts as a conversion, within a window of entering."""

    event: str
    where: str | None = None
    within: Duration = timedelta(days=7)
    revenue: str | None = None
    exit: bool = True


class MessageTemplate(StrictModel):
    """A message's Liquid sources: a subject and HTML for email, text for SMS or plain email."""

    subject: str | None = None
    html: str | None = None
    text: str | None = None

    @model_validator(mode="after")
    def _has_a_body(self) -> MessageTemplate:
        if self.html is None and self.text is None:
            raise ValueError("a template needs `html` or `text`")
        return self


# ---------------------------------------------------------------- steps


class _Step(StrictModel):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    next: str | None = None


class SendKind(StrEnum):
    """Whether a message needs marketing consent."""

    MARKETING = "marketing"  #: needs the contact's consent for the channel
    TRANSACTIONAL = "transactional"  #: a receipt or reset; bypasses marketing rules


class OnDeferral(StrEnum):
    """What the journey does while send-time policies defer its message."""

    #: Move on at once; the message goes when the policies allow (the default).
    GO_ON = "go_on"
    #: Stay at the send until the message goes or is dropped, so the next wait counts
    #: from the real send.
    HOLD = "hold"


class Variant(StrictModel):
    """One arm of an A/B test on a send."""

    name: str
    template: str
    weight: int = Field(1, ge=1)


class WinnerMetric(StrEnum):
    """What makes a variant the better one."""

    CLICKS = "clicks"  #: clicks per message sent
    CONVERSIONS = "conversions"  #: the workflow's goal reached, per message sent


class WinnerChoice(StrEnum):
    """How a test with an automatic winner shares out its sends."""

    #: Split by the weights until one variant wins at significance (after a minimum sample
    #: in every arm), then send only the winner.
    PROMOTE = "promote"
    #: Thompson sampling: each send goes to a variant with the chance that it is the best,
    #: so a test spends fewer sends on a loser while it learns.
    THOMPSON = "thompson"


class Winner(StrictModel):
    """An A/B test that picks its winner by itself."""

    metric: WinnerMetric = WinnerMetric.CLICKS
    choose: WinnerChoice = WinnerChoice.PROMOTE
    min_sample: int = Field(100, ge=10)


class SendStep(_Step):
    """Send a message through a channel, rendering its template for this contact."""

    type: Literal["send"]
    channel: Channel = Channel.EMAIL
    template: str | None = None
    variants: tuple[Variant, ...] = ()
    winner: Winner | None = None
    kind: SendKind = SendKind.MARKETING
    topic: str | None = None
    #: How long after the step the message is still worth sending; a message that send-time
    #: policies would delay past this is dropped instead of arriving late.
    valid_for: Duration | None = None
    on_deferral: OnDeferral = OnDeferral.GO_ON

    @model_validator(mode="after")
    def _template_or_variants(self) -> SendStep:
        if (self.template is None) == (not self.variants):
            raise ValueError("a send needs either `template` or `variants`")
        if self.winner is not None and len(self.variants) < 2:
            raise ValueError("`winner` picks among variants; give the send two or more")
        return self


class UntilTime(StrictModel):
    """A local time of day, optionally only on some weekdays."""

    time: LocalTime
    weekdays: tuple[Weekday, ...] = ()


class AwaitedEvent(StrictModel):
    """One of the events a wait for any of several takes, and where it leads."""

    event: str
    where: str | None = None
    #: The step this event leads to (the step listed after the wait if unset).
    next: str | None = None


class WaitStep(_Step):
    """Pause for a duration, until a local time, or until an event (with a timeout)."""

    type: Literal["wait"]
    for_: Duration | None = Field(None, alias="for")
    until: UntilTime | None = None
    event: str | None = None
    where: str | None = None
    timeout: Duration | None = None
    on_event: str | None = None
    on_timeout: str | None = None
    #: A moment relative to another time: `event.starts_at - 1h`, `started_at + 3d`.
    at: str | None = None
    #: For an `at` whose field holds a date: the time of day, on the contact's clock.
    at_time: LocalTime | None = None
    #: For an `at` whose field holds no date or time: leave the journey (the default: a
    #: "renews in 30 days" message should not go now to someone with no renewal date), or
    #: go on to the next step at once.
    if_missing: Literal["exit", "go_on"] = "exit"
    #: For an `at` whose moment has already passed: go on at once (the default), or leave.
    if_past: Literal["go_on", "exit"] = "go_on"
    #: Wait for whichever of these events comes first, each with its own next step.
    events: tuple[AwaitedEvent, ...] = ()

    @model_validator(mode="after")
    def _one_kind_of_wait(self) -> WaitStep:
        kinds = [k for k in ("for_", "until", "event", "at") if getattr(self, k) is not None]
        kinds += ["events"] if self.events else []
        if len(kinds) != 1:
            raise ValueError(
                "a wait needs exactly one of `for`, `until`, `event`, `events` or `at`"
            )
        if self.events:
            extra = [k for k in ("where", "on_event") if getattr(self, k)]
            if extra:
                raise ValueError(
                    f"{', '.join(extra)} go in each of `events`: {{event, where, next}}"
                )
            if self.timeout is None:
                raise ValueError("a wait for events needs a `timeout`, like timeout: 3d")
            return self
        if self.at is not None:
            parse_moment(self.at)  # its ValueError names the mistake
        else:
            given = [k for k in ("at_time", "if_missing", "if_past") if k in self.model_fields_set]
            if given:
                raise ValueError(f"{', '.join(given)} only apply to a wait with `at`")
        if self.event is None:
            extra = [k for k in ("where", "timeout", "on_event", "on_timeout") if getattr(self, k)]
            if extra:
                raise ValueError(f"{', '.join(extra)} only apply to a wait for an `event`")
        elif self.timeout is None:
            raise ValueError("a wait for an event needs a `timeout`, like timeout: 3d")
        return self


class BranchRule(StrictModel):
    """One arm of a branch: contacts meeting `when` go to `next`."""

    when: str
    next: str


class BranchStep(_Step):
    """Send the contact down the first arm whose condition holds, else to `else`."""

    type: Literal["branch"]
    branches: tuple[BranchRule, ...] = Field(min_length=1)
    else_: str | None = Field(None, alias="else")


class SplitPath(StrictModel):
    """One path of a random split, taken by `percent` of contacts."""

    name: str
    percent: float = Field(gt=0, le=100)
    next: str
    #: A holdout enters the workflow but is never messaged: reports measure the workflow's
    #: true lift against it. Validation refuses a holdout path that can reach a send.
    holdout: bool = False


class SplitStep(_Step):
    """Send contacts down random paths in fixed proportions (A/B paths, holdouts)."""

    type: Literal["split"]
    paths: tuple[SplitPath, ...] = Field(min_length=2)

    @field_validator("paths")
    @classmethod
    def _adds_up_to_100(cls, paths: tuple[SplitPath, ...]) -> tuple[SplitPath, ...]:
        total = sum(p.percent for p in paths)
        if abs(total - 100) > 1e-9:
            raise ValueError(f"the percents add up to {total:g}; they must add up to 100")
        return paths


class ConsentStatus(StrEnum):
    """A contact's consent on one channel."""

    SUBSCRIBED = "subscribed"  #: agreed to marketing on this channel
    UNSUBSCRIBED = "unsubscribed"  #: withdrew consent
    BOUNCED = "bounced"  #: the address does not exist
    COMPLAINED = "complained"  #: marked a message as spam
    #: held back from marketing by a workflow's `suppress` step (a sunset, say); transactional
    #: messages still go, and fresh consent (subscribing again) lifts it
    SUPPRESSED = "suppressed"


class UpdateStep(_Step):
    """Change the contact: attributes, tags, score, consent."""

    type: Literal["update"]
    set: dict[str, Any] = Field(default_factory=dict)
    unset: tuple[str, ...] = ()
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    score: float | None = None
    consent: dict[Channel, ConsentStatus] = Field(default_factory=dict)


class WebhookStep(_Step):
    """Call an HTTP endpoint (a CRM, the shop) with a templated JSON body."""

    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None


class NotifyStep(_Step):
    """Alert a person inside the business (a sales rep) by email or Slack."""

    type: Literal["notify"]
    channel: Literal["email", "slack"] = "email"
    to: str
    message: str


class ApprovalStep(_Step):
    """Pause until a person approves or rejects, or the timeout passes."""

    type: Literal["approval"]
    message: str
    approvers: tuple[str, ...] = ()
    timeout: Duration
    on_approve: str | None = None
    on_reject: str | None = None
    on_timeout: str | None = None


class EnrollStep(_Step):
    """Enroll the contact in another workflow."""

    type: Literal["enroll"]
    workflow: str


class ExitStep(_Step):
    """End the contact's journey here."""

    type: Literal["exit"]
    reason: str | None = None


class SuppressStep(_Step):
    """Hold the contact back from marketing on a channel, for every workflow, until they
    consent again; the reason goes on their timeline."""

    type: Literal["suppress"]
    channel: Literal["email", "sms"] = "email"
    reason: str = Field(min_length=1, max_length=200)


Step = Annotated[
    SendStep
    | WaitStep
    | BranchStep
    | SplitStep
    | UpdateStep
    | WebhookStep
    | NotifyStep
    | ApprovalStep
    | EnrollStep
    | ExitStep
    | SuppressStep,
    Field(discriminator="type"),
]


class Position(StrictModel):
    """Where the console draws a step on its canvas; the engine never reads it."""

    x: float = Field(allow_inf_nan=False)
    y: float = Field(allow_inf_nan=False)


class Workflow(StrictModel):
    """A whole workflow: how contacts get in, what happens to them, and how they get out."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    name: str
    description: str = ""
    priority: int = 0
    trigger: Trigger
    entry: Entry = Entry()
    exit: tuple[ExitRule, ...] = ()
    goal: Goal | None = None
    templates: dict[str, MessageTemplate] = Field(default_factory=dict)
    steps: tuple[Step, ...] = Field(min_length=1)
    #: Send-time policies of its own: transactional, or rules added to the workspace's.
    policies: WorkflowPolicies = Field(default_factory=WorkflowPolicies)
    #: Canvas positions by step id (and "trigger"): kept with the spec so an exported file
    #: opens as it was drawn; the engine ignores them.
    layout: dict[str, Position] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _trigger_type_defaults_to_event(cls, data: Any) -> Any:
        trigger = data.get("trigger") if isinstance(data, dict) else None
        if isinstance(trigger, dict) and "type" not in trigger and "event" in trigger:
            return {**data, "trigger": {"type": "event", **trigger}}
        return data

    def step(self, step_id: str | None) -> Step | None:
        """The step with this id, or None."""
        if step_id is None:
            return None
        return self._index().get(step_id)

    def following(self, step_id: str) -> str | None:
        """The id of the step an implicit `next` leads to: the one listed after it."""
        ids = [s.id for s in self.steps]
        position = ids.index(step_id)
        return ids[position + 1] if position + 1 < len(ids) else None

    def next_of(self, step: Step) -> str | None:
        """Where a step continues: its `next`, or else the step listed after it."""
        return step.next if step.next is not None else self.following(step.id)

    def _index(self) -> dict[str, Step]:
        # Frozen model: compute the index once and keep it on the instance.
        index: dict[str, Step] | None = self.__dict__.get("_step_index")
        if index is None:
            index = {s.id: s for s in self.steps}
            self.__dict__["_step_index"] = index
        return index
