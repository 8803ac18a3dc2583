"""Pacing rules: frequency caps, quiet hours and the purchase window, as the workspace's
settings and a workflow's `policies:` block write them.

A workflow's own rules are added to the workspace's, never put in their place: a message
of the workflow must satisfy both. That is why they can only tighten. The one way to
loosen is `transactional: true`, which exempts the workflow's messages from the
workspace's pacing rules (not from consent: see `tidings.core.policies`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from tidings.core.channels import Channel
from tidings.core.duration import format_duration
from tidings.core.model import StrictModel
from tidings.core.units import Duration, LocalTime


class FrequencyCap(StrictModel):
    """At most `limit` marketing messages per `per`, on one channel or (unset) on all."""

    limit: int = Field(ge=1, le=1000)
    per: Duration
    channel: Channel | None = None

    def covers(self, channel: str) -> bool:
        """Whether a message on `channel` counts against (and is held by) this cap."""
        return self.channel is None or self.channel.value == channel

    @property
    def label(self) -> str:
        """How the cap reads in a reason."""
        what = f"{self.channel.value} " if self.channel else ""
        return f"{self.limit} marketing {what}messages per {format_duration(self.per)}"


class QuietHours(StrictModel):
    """No marketing messages between `start` and `end` in the contact's own timezone."""

    start: LocalTime
    end: LocalTime
    channels: tuple[Channel, ...] = (Channel.EMAIL, Channel.SMS)

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours need different `start` and `end` times")
        return self


class AfterPurchase(StrictModel):
    """Hold back marketing for a while after the contact buys (`event`)."""

    event: str = "order_completed"
    for_: Duration = Field(alias="for")


class CapCounts(StrEnum):
    """Which messages a workflow's own frequency cap counts."""

    WORKFLOW = "workflow"  #: the contact's marketing messages from this workflow
    ALL = "all"  #: all the contact's marketing messages, as the workspace's caps do


class WorkflowCap(FrequencyCap):
    """A frequency cap a workflow adds: at most `limit` per `per`, counting `counts`."""

    counts: CapCounts = CapCounts.WORKFLOW

    @property
    def label(self) -> str:
        """How the cap reads in a reason."""
        mine = " from this workflow" if self.counts is CapCounts.WORKFLOW else ""
        what = f"{self.channel.value} " if self.channel else ""
        return f"{self.limit} marketing {what}messages{mine} per {format_duration(self.per)}"


#: What people write when they mean "switch this rule off" (YAML reads `off` as false).
_OFF_WORDS = frozenset({"off", "none", "no", "false", ""})

_LOOSEN_FIX = (
    "a workflow's policies add to the workspace's, so they can only tighten them; for "
    "receipts, resets and other messages the contact asked for, set "
    "`policies: {transactional: true}` (or `kind: transactional` on the send)"
)

_NAMES = {
    "frequency_caps": "frequency caps",
    "quiet_hours": "quiet hours",
    "after_purchase": "purchase window",
}


class LooseningError(ValueError):
    """A workflow's `policies:` tries to loosen the workspace's; `hint` says the fix."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(f"{message} ({hint})")
        self.message = message
        self.hint = hint


class WorkflowPolicies(StrictModel):
    """A workflow's own send-time policies (`policies:` in the workflow file).

    `transactional` exempts the workflow's messages from the workspace's frequency caps,
    quiet hours and purchase window. The other fields add rules of their own, which hold
    whether or not the workflow is transactional.
    """

    transactional: bool = False
    frequency_caps: tuple[WorkflowCap, ...] = ()
    quiet_hours: QuietHours | None = None
    after_purchase: AfterPurchase | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_switches(cls, data: Any) -> Any:
        # `skip_quiet_hours: true` and the like read as loosening: say how to do it.
        if isinstance(data, dict):
            for key in data:
                if str(key).startswith(("skip", "ignore", "bypass", "no_", "disable")):
                    why = f"`{key}` would loosen the workspace's policies"
                    raise LooseningError(why, _LOOSEN_FIX)
        return data

    @field_validator("frequency_caps", "quiet_hours", "after_purchase", mode="before")
    @classmethod
    def _not_off(cls, value: Any, info: Any) -> Any:
        empty = isinstance(value, list | tuple) and not value
        words = isinstance(value, str) and value.strip().lower() in _OFF_WORDS
        if empty or words or value is None or value is False:
            shown = "[]" if empty else "null" if value is None else "off"
            name = info.field_name
            raise LooseningError(
                f"`{name}: {shown}` cannot switch off the workspace's {_NAMES[name]}",
                f"{_LOOSEN_FIX}; or leave `{name}` out to keep the workspace's alone",
            )
        return value
