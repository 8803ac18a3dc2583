"""What makes a segment definition valid, checked before anything is stored."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tidings.core.conditions import Condition, parse_condition
from tidings.core.conditions.ast import (
    And,
    Behaviour,
    Compare,
    Field,
    IsNull,
    Not,
    Or,
    Truthy,
)
from tidings.core.errors import ConditionSyntaxError
from tidings.core.problems import Problem

SEGMENT_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def segment_problems(key: str, name: str, condition: str) -> list[Problem]:
    """Every problem with a segment's key, name and condition, each with its path and a fix."""
    problems: list[Problem] = []
    if not SEGMENT_KEY.fullmatch(key):
        problems.append(
            Problem(
                "key", f"{key!r} is not a segment key", "use lowercase letters, digits, - and _"
            )
        )
    if not name.strip() or len(name) > 200:
        problems.append(Problem("name", "a segment needs a name of 1 to 200 characters"))
    try:
        cond = parse_condition(condition)
    except ConditionSyntaxError as exc:
        problems.append(
            Problem("condition", f"{exc.reason} at column {exc.position + 1} of {condition!r}")
        )
        return problems
    problems += [Problem("condition", message, hint) for message, hint in _misuses(cond, False)]
    return problems


def _misuses(cond: Condition, in_behaviour: bool) -> Iterator[tuple[str, str]]:
    """What a segment cannot mean: trigger fields, event fields outside a behaviour rule's
    where, and comparisons between two fields (a segment compares a field with a value)."""
    match cond:
        case And(items=items) | Or(items=items):
            for item in items:
                yield from _misuses(item, in_behaviour)
        case Not(item=item):
            yield from _misuses(item, in_behaviour)
        case Behaviour(where=where):
            if where is not None:
                yield from _misuses(where, True)
        case Compare(left=Field() as left, right=Field() as right):
            yield (
                f"{left} is compared with {right}",
                'compare a field with a value, such as contact.plan == "pro"',
            )
        case Compare(left=left, right=right):
            for side in (left, right):
                if isinstance(side, Field):
                    yield from _root_misuse(side, in_behaviour)
        case IsNull(operand=Field() as ref) | Truthy(operand=Field() as ref):
            yield from _root_misuse(ref, in_behaviour)


def _root_misuse(ref: Field, in_behaviour: bool) -> Iterator[tuple[str, str]]:
    if ref.root in ("trigger", "steps"):
        yield f"{ref} has no meaning in a segment", "segments see contact. and consent. fields"
    elif ref.root == "event" and not in_behaviour:
        yield (
            f"{ref} is outside a behaviour rule",
            "event fields go in a rule's where: performed page_viewed where event.url ...",
        )
