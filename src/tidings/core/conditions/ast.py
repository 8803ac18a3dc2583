"""The condition language's syntax tree, shared by every evaluator (memory now, SQL later)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

Scalar = str | int | float | bool | None

#: The roots a field path may start from.
ROOTS = ("contact", "event", "trigger", "consent")


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


Condition = Compare | IsNull | Truthy | And | Or | Not


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
            return f"not {inner}" if isinstance(item, Truthy | Not) else f"not ({inner})"


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
