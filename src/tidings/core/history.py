"""What of a contact's past a workflow's conditions ask about, so the shell reads only that.

A workflow condition may hold the behaviour rules segments have (`performed product_viewed
within 3d`, `total event.revenue of order_completed within 90d > 200`). The core never
reads the database. A rule whose `where` reads only its events (`summable`) is added up by
the database, in the same SQL a segment uses, and put on `ContactView.measures`: a rule
with no `within` reads no rows however many events the contact has. For the other rules
(their `where` reads the trigger, the journey's steps or the contact) the shell asks
`history_need` which events, back to when, and puts them on `ContactView.history`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tidings.core.conditions import Condition, parse_condition
from tidings.core.conditions.ast import And, Behaviour, Not, Or, behaviours_of, fields_of
from tidings.core.errors import ConditionSyntaxError
from tidings.core.spec import Workflow

#: The keys of a workflow document that hold condition text.
_CONDITION_KEYS = ("when", "where")


@dataclass(frozen=True)
class HistoryNeed:
    """The events conditions ask about: of these names (None: any name), this far back."""

    names: frozenset[str] | None  #: None when a rule counts any event
    window: timedelta | None  #: the longest `within`; None when a rule reads all time

    def since(self, now: datetime) -> datetime | None:
        """The earliest moment an event must have occurred to count; None for all time."""
        return None if self.window is None else now - self.window

    def join(self, other: HistoryNeed) -> HistoryNeed:
        """What both needs read."""
        names = None if self.names is None or other.names is None else self.names | other.names
        window = (
            None if self.window is None or other.window is None else max(self.window, other.window)
        )
        return HistoryNeed(names, window)


def rules_of(cond: Condition) -> Iterator[Behaviour]:
    """Every behaviour rule in a condition, those inside another rule's `where` included."""
    match cond:
        case And(items=items) | Or(items=items):
            for item in items:
                yield from rules_of(item)
        case Not(item=item):
            yield from rules_of(item)
        case Behaviour(where=where):
            yield cond
            if where is not None:
                yield from rules_of(where)
        case _:
            return


def need_of_rules(rules: Iterable[Behaviour]) -> HistoryNeed | None:
    """The events these rules read; None when there are no rules."""
    need: HistoryNeed | None = None
    for rule in rules:
        names = None if rule.event is None else frozenset({rule.event})
        one = HistoryNeed(names, rule.within)
        need = one if need is None else need.join(one)
    return need


def summable(rule: Behaviour) -> bool:
    """Whether the database can add up this rule alone: its `where` (and that of any rule
    inside it) reads only the events' own properties, not the trigger, the journey's steps
    or the contact as the journey has it."""
    if rule.where is None:
        return True
    return all(ref.root == "event" for ref in fields_of(rule.where)) and all(
        summable(inner) for inner in behaviours_of(rule.where)
    )


def workflow_rules(spec: Workflow) -> tuple[Behaviour, ...]:
    """The behaviour rules of a workflow version's conditions (not those inside another
    rule's `where`), each once.

    Kept on the (frozen, immutable) spec once known: every journey run asks.
    """
    cached = spec.__dict__.get("_workflow_rules")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    found = tuple(
        dict.fromkeys(
            rule for text in _condition_texts(spec.model_dump()) for rule in _top_rules(text)
        )
    )
    spec.__dict__["_workflow_rules"] = found
    return found


def history_need(spec: Workflow) -> HistoryNeed | None:
    """The events a workflow version's rules that the database cannot add up read; None
    when they read no history."""
    return need_of_rules(
        inner for rule in workflow_rules(spec) if not summable(rule) for inner in rules_of(rule)
    )


def rules_need(spec: Workflow) -> HistoryNeed | None:
    """The events all of a workflow version's rules read, those the database adds up
    included: what a copy of the database must hold for them to mean the same there."""
    return need_of_rules(inner for rule in workflow_rules(spec) for inner in rules_of(rule))


def join_needs(needs: Iterable[HistoryNeed | None]) -> HistoryNeed | None:
    """What all these needs read together."""
    joined: HistoryNeed | None = None
    for need in needs:
        if need is not None:
            joined = need if joined is None else joined.join(need)
    return joined


def _top_rules(text: str) -> Iterator[Behaviour]:
    try:
        cond = parse_condition(text)
    except ConditionSyntaxError:
        return  # a valid spec has none; a field named `when` elsewhere is not a condition
    yield from behaviours_of(cond)


def _condition_texts(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in _CONDITION_KEYS and isinstance(value, str):
                yield value
            else:
                yield from _condition_texts(value)
    elif isinstance(data, list | tuple):
        for item in data:
            yield from _condition_texts(item)
