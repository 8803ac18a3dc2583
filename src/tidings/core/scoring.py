"""Lead scoring: named scores built from rules, with caps, decay and thresholds.

A score is the sum of its awards. Event rules award points when the contact does something
(capped per rule, over all time or per period), and those points fade with the score's
half-life or expire after a while. Fit rules hold points while the profile meets a
condition (industry, company size) and take them back when it stops. Nothing here reads
the clock or the database: the shell passes the ledger of past awards and the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tidings.core.conditions import Facts, evaluate, parse_condition
from tidings.core.duration import format_days, parse_duration
from tidings.core.errors import ConditionSyntaxError
from tidings.core.model import StrictModel
from tidings.core.problems import Problem
from tidings.core.state import EventView
from tidings.core.values import unstorable

_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Name = Annotated[str, Field(pattern=_NAME)]


def _duration(cls: Any, value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str) else value


class EventRule(StrictModel):
    """Points each time the contact performs `event` (meeting `where`), up to `cap`."""

    id: Name
    event: str = Field(min_length=1)
    where: str | None = None
    points: float
    #: At most this many points from this rule (over all time, or per `per`).
    cap: float | None = Field(None, gt=0)
    per: timedelta | None = None

    _per = field_validator("per", mode="before")(_duration)


class FitRule(StrictModel):
    """Points held while the profile meets `when` (industry, company size), taken back after."""

    id: Name
    when: str
    points: float


class ScoreModel(StrictModel):
    """One named score: its rules and how its event points fade."""

    half_life: timedelta | None = None
    expire_after: timedelta | None = None
    rules: list[EventRule] = Field(default_factory=list)
    fit: list[FitRule] = Field(default_factory=list)

    _fades = field_validator("half_life", "expire_after", mode="before")(_duration)

    @model_validator(mode="after")
    def _one_way_to_fade(self) -> ScoreModel:
        if self.half_life is not None and self.expire_after is not None:
            raise ValueError("choose half_life or expire_after, not both")
        ids = [r.id for r in self.rules] + [r.id for r in self.fit]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(repeated)}")
        return self

    def weight(self, age: timedelta) -> float:
        """How much of an event award is left after `age`."""
        if self.half_life is not None:
            return float(0.5 ** (max(age, timedelta(0)) / self.half_life))
        if self.expire_after is not None:
            return 1.0 if age < self.expire_after else 0.0
        return 1.0


class Threshold(StrictModel):
    """A named level of a score: crossing it is an event workflows can start on."""

    score: Name
    at: float


class Scoring(StrictModel):
    """A workspace's scores and thresholds."""

    scores: dict[Name, ScoreModel] = Field(default_factory=dict)
    thresholds: dict[Name, Threshold] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _thresholds_name_scores(self) -> Scoring:
        for name, threshold in self.thresholds.items():
            if threshold.score not in self.scores:
                raise ValueError(f"threshold {name} is on an unknown score {threshold.score!r}")
        return self


NO_SCORING = Scoring()


def parse_scoring(data: Any) -> tuple[Scoring | None, list[Problem]]:
    """Read a scoring document; every problem comes back with its path."""
    if unstorable_parts := unstorable(data):
        # Stored as JSON: YAML's .nan or .inf as points would break every read of it.
        return None, unstorable_parts
    try:
        scoring = Scoring.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(p) for p in error["loc"]) or "scoring", error["msg"])
            for error in exc.errors()
        ]
        return None, problems
    problems = []
    for name, model in scoring.scores.items():
        for i, rule in enumerate(model.rules):
            if rule.where is not None:
                problems += _condition(f"scores.{name}.rules[{i}].where", rule.where)
        for i, fit in enumerate(model.fit):
            problems += _condition(f"scores.{name}.fit[{i}].when", fit.when)
    return (None, problems) if problems else (scoring, [])


def _condition(path: str, text: str) -> list[Problem]:
    try:
        parse_condition(text)
    except ConditionSyntaxError as exc:
        return [Problem(path, f"{exc.reason} at column {exc.position + 1} of {text!r}")]
    return []


@dataclass(frozen=True)
class Award:
    """Points given (or taken) by one rule at one moment: a line of the ledger."""

    score: str
    rule: str
    points: float
    at: datetime
    kind: str  #: "event" (fades) or "fit" (held while the profile fits)
    why: str = ""


def score_value(model: ScoreModel, awards: Iterable[Award], now: datetime) -> float:
    """A score's value now: fit points in full, event points as much as is left of them."""
    total = 0.0
    for award in awards:
        weight = 1.0 if award.kind == "fit" else model.weight(now - award.at)
        total += award.points * weight
    return tidy_score(total)


def tidy_score(value: float) -> float:
    """A score as it is kept and shown: to the hundredth, which is all a point total means.
    Fading leaves float noise (60 points a minute old are 59.99904), which a message would
    print and a threshold at 60 would miss."""
    return round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def values(scoring: Scoring, ledger: Sequence[Award], now: datetime) -> dict[str, float]:
    """Every score's value now, from one contact's ledger."""
    return {
        name: score_value(model, (a for a in ledger if a.score == name), now)
        for name, model in scoring.scores.items()
    }


def event_awards(
    scoring: Scoring,
    event: EventView,
    contact: Mapping[str, Any],
    ledger: Sequence[Award],
    now: datetime,
) -> list[Award]:
    """What one event earns, each rule within its cap (the ledger holds earlier awards)."""
    earned: list[Award] = []
    for name, model in scoring.scores.items():
        for rule in model.rules:
            if rule.event != event.name:
                continue
            if rule.where is not None:
                facts = Facts(contact=contact, event=event.properties)
                if not evaluate(parse_condition(rule.where), facts):
                    continue
            points = _within_cap(rule, name, [*ledger, *earned], event.occurred_at)
            if points == 0:
                continue
            why = f"{event.name}" + (f" where {rule.where}" if rule.where else "")
            if points != rule.points:
                why += f" (capped at {rule.cap:g}" + (
                    f" per {format_days(rule.per)})" if rule.per else ")"
                )
            earned.append(Award(name, rule.id, points, event.occurred_at, "event", why))
    return earned


def _within_cap(rule: EventRule, score: str, ledger: Sequence[Award], at: datetime) -> float:
    if rule.cap is None:
        return rule.points
    since = at - rule.per if rule.per is not None else None
    already = sum(
        abs(a.points)
        for a in ledger
        if a.score == score and a.rule == rule.id and (since is None or a.at > since)
    )
    room = max(rule.cap - already, 0.0)
    allowed = min(abs(rule.points), room)
    return allowed if rule.points > 0 else -allowed


def fit_awards(
    scoring: Scoring, contact: Mapping[str, Any], ledger: Sequence[Award], now: datetime
) -> list[Award]:
    """Fit points to give where the profile now fits, and to take back where it stopped."""
    changes: list[Award] = []
    for name, model in scoring.scores.items():
        for rule in model.fit:
            held = sum(a.points for a in ledger if a.score == name and a.rule == rule.id)
            fits = evaluate(parse_condition(rule.when), Facts(contact=contact))
            if fits and held == 0:
                changes.append(Award(name, rule.id, rule.points, now, "fit", rule.when))
            elif not fits and held != 0:
                changes.append(Award(name, rule.id, -held, now, "fit", f"no longer {rule.when}"))
    return changes


@dataclass(frozen=True)
class Crossing:
    """A score went past a threshold, up or down."""

    threshold: str
    score: str
    at: float
    direction: str  #: "up" or "down"
    value: float


def crossings(
    scoring: Scoring, before: Mapping[str, float], after: Mapping[str, float]
) -> list[Crossing]:
    """The thresholds a change of scores went past, in either direction."""
    found: list[Crossing] = []
    for name, threshold in scoring.thresholds.items():
        old = before.get(threshold.score, 0.0)
        new = after.get(threshold.score, 0.0)
        if old < threshold.at <= new:
            found.append(Crossing(name, threshold.score, threshold.at, "up", new))
        elif new < threshold.at <= old:
            found.append(Crossing(name, threshold.score, threshold.at, "down", new))
    return found
