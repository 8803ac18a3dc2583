"""The in-memory evaluator: does one contact (and event) meet a condition?

Missing fields read as null. A comparison between values of different kinds (a string
and a number) is false rather than an error, so one odd attribute never stops a workflow.
Behaviour rules read the contact's events from `Facts.history`, counted back from `Facts.now`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tidings.core.conditions.ast import (
    Aggregate,
    And,
    Behaviour,
    Compare,
    Condition,
    Field,
    IsNull,
    Literal,
    Not,
    Op,
    Operand,
    Or,
    Truthy,
)
from tidings.core.state import EventView


@dataclass(frozen=True)
class Facts:
    """What a condition can see: the contact, the event at hand, the journey's trigger, consent."""

    contact: Mapping[str, Any]
    event: Mapping[str, Any] = field(default_factory=dict)
    consent: Mapping[str, Any] = field(default_factory=dict)
    trigger: Mapping[str, Any] = field(default_factory=dict)
    #: What earlier steps of the journey left: `steps.<wait id>.event` is the event that
    #: ended that wait.
    steps: Mapping[str, Any] = field(default_factory=dict)
    #: The contact's events, for behaviour rules; only needed when the condition has some.
    history: Sequence[EventView] = ()
    #: The moment `within` counts back from; behaviour rules with `within` need it.
    now: datetime | None = None
    #: What behaviour rules add up to, already summed where the events are stored (the
    #: shell's per-rule query); a rule found here is not counted from `history`.
    measures: Mapping[Behaviour, int | float | None] = field(default_factory=dict)


def evaluate(cond: Condition, facts: Facts) -> bool:
    """True when `facts` meet `cond`."""
    match cond:
        case Compare(op=op, left=left, right=right):
            return _compare(op, _value(left, facts), _value(right, facts))
        case IsNull(operand=operand, negated=negated):
            return (_value(operand, facts) is None) != negated
        case Truthy(operand=operand):
            return _is_truthy(_value(operand, facts))
        case And(items=items):
            return all(evaluate(item, facts) for item in items)
        case Or(items=items):
            return any(evaluate(item, facts) for item in items)
        case Not(item=item):
            return not evaluate(item, facts)
        case Behaviour():
            return _behaviour(cond, facts)


def _behaviour(rule: Behaviour, facts: Facts) -> bool:
    return _compare(rule.op, measure(rule, facts), rule.value)


def measure(rule: Behaviour, facts: Facts) -> int | float | None:
    """What a behaviour rule adds up from the history: the count of its events, or the
    total, average, min or max of their property (None when there is nothing to average)."""
    if rule in facts.measures:
        return facts.measures[rule]
    since = None
    if rule.within is not None:
        if facts.now is None:
            raise ValueError("a behaviour rule with 'within' needs Facts.now")
        since = facts.now - rule.within
    matching = [
        e
        for e in facts.history
        if (rule.event is None or e.name == rule.event)
        and (since is None or e.occurred_at >= since)
        and (rule.where is None or evaluate(rule.where, replace(facts, event=e.properties)))
    ]
    if rule.aggregate is Aggregate.COUNT:
        return len(matching)
    ref = Field("event", rule.prop)
    numbers = [
        v for e in matching if _is_number(v := resolve(ref, Facts(contact={}, event=e.properties)))
    ]
    total: int | float | None
    match rule.aggregate:
        case Aggregate.TOTAL:
            total = sum(numbers)
        case Aggregate.AVERAGE:
            total = sum(numbers) / len(numbers) if numbers else None
        case Aggregate.MIN:
            total = min(numbers, default=None)
        case Aggregate.MAX:
            total = max(numbers, default=None)
    return total


def _value(operand: Operand, facts: Facts) -> Any:
    if isinstance(operand, Literal):
        return operand.value
    return resolve(operand, facts)


def resolve(ref: Field, facts: Facts) -> Any:
    """The value at a field path, or None when any part of it is missing."""
    roots = {
        "contact": facts.contact,
        "event": facts.event,
        "consent": facts.consent,
        "trigger": facts.trigger,
        "steps": facts.steps,
    }
    current: Any = roots[ref.root]
    for key in ref.path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", [], {})


def _same_kind(a: Any, b: Any) -> bool:
    return (_is_number(a) and _is_number(b)) or (type(a) is type(b) and not _is_number(a))


def _compare(op: Op, left: Any, right: Any) -> bool:
    match op:
        case Op.EQ:
            return _equal(left, right)
        case Op.NE:
            return not _equal(left, right)
        case Op.LT | Op.LE | Op.GT | Op.GE:
            if left is None or right is None or not _same_kind(left, right):
                return False
            if not (_is_number(left) or isinstance(left, str)):
                return False
            return bool(
                {
                    Op.LT: left < right,
                    Op.LE: left <= right,
                    Op.GT: left > right,
                    Op.GE: left >= right,
                }[op]
            )
        case Op.IN:
            return _member(left, right)
        case Op.NOT_IN:
            return left is not None and not _member(left, right)
        case Op.CONTAINS:
            return _contains(left, right)
        case Op.NOT_CONTAINS:
            return left is not None and not _contains(left, right)


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    return _same_kind(left, right) and left == right


def _member(item: Any, collection: Any) -> bool:
    if not isinstance(collection, list | tuple | set | frozenset):
        return False
    return any(_equal(item, candidate) for candidate in collection)


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    return _member(item, container)
