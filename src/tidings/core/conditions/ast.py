"""The condition language's syntax tree, shared by both evaluators (in memory, and SQL)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from tidings.core.duration import format_days

Scalar = str | int | float | bool | None

#: The roots a field path may start from.
ROOTS = ("contact", "event", "trigger", "consent", "steps")


class Op(StrEnum):
    """A comparison operator, stored as the text a person writes."""

    EQ = "=="  #: equal
    NE = "!="  #: not equal
    LT = "<"  #: less than (numbers, or strings such as ISO dates)
    LE = "<="  #: less than or equal
    GT = ">"  #: greater than
    GE = ">="  #: greater than or equal
    IN = "in"  #: the left value is one of the right list
    NOT_IN = "not in"  #: the left value is none of the right list
    CONTAINS = "contains"  #: substring of a string, or member of a list
    NOT_CONTAINS = "not contains"  #: the negation of contains


@dataclass(frozen=True)
class Field:
    """A path into the contact, the event or the consent: `contact.cart_value`."""

    root: str
    path: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join((self.root, *self.path))


@dataclass(frozen=True)
class Literal:
    """A constant: a string, number, boolean, null, or a list of those."""

    value: Scalar | tuple[Scalar, ...]

    def __str__(self) -> str:
        if isinstance(self.value, tuple):
            return "[" + ", ".join(_scalar_text(v) for v in self.value) + "]"
        return _scalar_text(self.value)


Operand = Field | Literal


@dataclass(frozen=True)
class Compare:
    """`left op right`."""

    op: Op
    left: Operand
    right: Operand


@dataclass(frozen=True)
class IsNull:
    """`operand is null`, or `is not null` when negated."""

    operand: Operand
    negated: bool = False


@dataclass(frozen=True)
class Truthy:
    """A bare field used as a condition: true when set and not false, zero or empty."""

    operand: Operand


@dataclass(frozen=True)
class And:
    """All of the items hold."""

    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    """At least one of the items holds."""

    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    """The item does not hold."""

    item: Condition


class Aggregate(StrEnum):
    """How a behaviour rule adds up the matching events."""

    COUNT = "count"  #: how many there were
    TOTAL = "total"  #: the sum of a numeric property (0 when there are none)
    AVERAGE = "average"  #: the mean of a numeric property (unknown when there are none)
    MIN = "min"  #: the smallest value of a numeric property
    MAX = "max"  #: the largest value of a numeric property


@dataclass(frozen=True)
class Behaviour:
    """A rule over the contact's events, compared with a number.

    `performed page_viewed where event.url contains "/pricing" at least 3 times within 7d`
    is `count(page_viewed events meeting where, in the last 7 days) >= 3`;
    `total event.revenue of order_completed > 500` sums a property instead.
    Only numeric property values count towards total, average, min and max.
    """

    event: str | None  #: the event name; None for any event
    op: Op  #: one of the ordering or equality operators
    value: int | float
    where: Condition | None = None  #: a condition on each event (`event.*` is that event)
    within: timedelta | None = None  #: only events this recent count; None for all time
    aggregate: Aggregate = Aggregate.COUNT
    prop: tuple[str, ...] = ()  #: the event property that total/average/min/max read


Condition = Compare | IsNull | Truthy | And | Or | Not | Behaviour

#: How `performed ... N times` prints each count comparison.
_COUNT_WORDS = {
    Op.GE: "at least",
    Op.LE: "at most",
    Op.EQ: "exactly",
    Op.GT: "more than",
    Op.LT: "fewer than",
}


def _scalar_text(value: Scalar) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def to_text(cond: Condition) -> str:
    """Print a condition back as text that `parse_condition` reads as the same tree."""
    match cond:
        case Compare(op=op, left=left, right=right):
            return f"{left} {op.value} {right}"
        case IsNull(operand=operand, negated=negated):
            return f"{operand} is {'not ' if negated else ''}null"
        case Truthy(operand=operand):
            return str(operand)
        case And(items=items):
            return " and ".join(_wrapped(item, Or) for item in items)
        case Or(items=items):
            return " or ".join(_wrapped(item, And) for item in items)
        case Not(item=item):
            inner = to_text(item)
            bare = isinstance(item, Truthy | Not | Behaviour)
            return f"not {inner}" if bare else f"not ({inner})"
        case Behaviour():
            return _behaviour_text(cond)


def _behaviour_text(rule: Behaviour) -> str:
    name = "any event" if rule.event is None else _event_name_text(rule.event)
    where = f" where ({to_text(rule.where)})" if rule.where is not None else ""
    within = f" within {format_days(rule.within)}" if rule.within is not None else ""
    if rule.aggregate is Aggregate.COUNT and rule.op is Op.GE and rule.value == 1:
        return f"performed {name}{where}{within}"
    if rule.aggregate is Aggregate.COUNT and rule.op in _COUNT_WORDS and _whole(rule.value):
        times = "time" if rule.value == 1 else "times"
        count = f" {_COUNT_WORDS[rule.op]} {_scalar_text(rule.value)} {times}"
        return f"performed {name}{where}{count}{within}"
    prop = ".".join(("event", *rule.prop))
    head = "count" if rule.aggregate is Aggregate.COUNT else f"{rule.aggregate.value} {prop}"
    return f"{head} of {name}{where}{within} {rule.op.value} {_scalar_text(rule.value)}"


def _whole(value: int | float) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _event_name_text(name: str) -> str:
    plain = _PLAIN_NAME.fullmatch(name) is not None and name.lower() not in _RESERVED_EVENT_WORDS
    return name if plain else json.dumps(name, ensure_ascii=False)


_PLAIN_NAME = re.compile(r"[A-Za-z_]\w*")

#: Words that read as part of a behaviour rule, so an event with one of these names is quoted.
_RESERVED_EVENT_WORDS = frozenset(
    {"any", "where", "within", "at", "exactly", "more", "fewer", "and", "or", "not", "of"}
    | {"in", "contains", "is", "null", "true", "false"}
)


def _wrapped(cond: Condition, looser: type) -> str:
    # An `or` inside an `and` (or the reverse) needs parentheses to keep its meaning.
    text = to_text(cond)
    return f"({text})" if isinstance(cond, looser | And | Or) else text


def fields_of(cond: Condition) -> Iterator[Field]:
    """Every field a condition reads, in order of appearance."""
    match cond:
        case Compare(left=left, right=right):
            for operand in (left, right):
                if isinstance(operand, Field):
                    yield operand
        case IsNull(operand=operand) | Truthy(operand=operand):
            if isinstance(operand, Field):
                yield operand
        case And(items=items) | Or(items=items):
            for item in items:
                yield from fields_of(item)
        case Not(item=item):
            yield from fields_of(item)
        case Behaviour():
            # A behaviour's `where` reads its own events, not the workflow's; see behaviours_of.
            return


def behaviours_of(cond: Condition) -> Iterator[Behaviour]:
    """Every behaviour rule in a condition, in order of appearance."""
    match cond:
        case And(items=items) | Or(items=items):
            for item in items:
                yield from behaviours_of(item)
        case Not(item=item):
            yield from behaviours_of(item)
        case Behaviour():
            yield cond
        case _:
            return
