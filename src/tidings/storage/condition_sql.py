"""The second evaluator: a condition compiled to SQL, to find a whole segment in one query.

It means exactly what `tidings.core.conditions.evaluate` means (a property test holds the
two to it on both databases): a missing field is null, values of different kinds never
compare, strings order by code point, and every compiled test is true or false, never
SQL's unknown, so `not` keeps its meaning.
"""

from __future__ import annotations

import json
from datetime import datetime
from itertools import count
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import FromClause

from tidings.core.conditions import Facts, evaluate
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
    Or,
    Scalar,
    Truthy,
)
from tidings.errors import TidingsError
from tidings.storage.tables import contacts, events

_FLIPPED = {Op.LT: Op.GT, Op.LE: Op.GE, Op.GT: Op.LT, Op.GE: Op.LE, Op.EQ: Op.EQ, Op.NE: Op.NE}
_SQL_AGGREGATES = {Aggregate.AVERAGE: "avg", Aggregate.MIN: "min", Aggregate.MAX: "max"}
_STRING_COLUMNS = ("email", "phone", "external_id", "timezone")
_NUMBER_COLUMNS = ("id", "score")


class NotInSql(TidingsError):
    """A condition uses something a segment cannot compute in SQL."""


def _sure(expr: ColumnElement[Any]) -> ColumnElement[bool]:
    """True or false, never unknown: a NULL (a missing value) counts as false."""
    return func.coalesce(expr, false())


def _ordered(op: Op, left: Any, right: Any) -> ColumnElement[bool]:
    match op:
        case Op.EQ:
            return left == right  # type: ignore[no-any-return]
        case Op.NE:
            return left != right  # type: ignore[no-any-return]
        case Op.LT:
            return left < right  # type: ignore[no-any-return]
        case Op.LE:
            return left <= right  # type: ignore[no-any-return]
        case Op.GT:
            return left > right  # type: ignore[no-any-return]
        case Op.GE:
            return left >= right  # type: ignore[no-any-return]
    raise NotInSql(f"{op.value} does not compare numbers")


class _Ref:
    """A value a field names, with the typed views the comparisons need.

    Each view is NULL where the value is not of its kind, which `_sure` turns into false.
    """

    def __init__(self, pg: bool) -> None:
        self.pg = pg

    def missing(self) -> ColumnElement[bool]:
        raise NotImplementedError

    def number(self) -> ColumnElement[Any]:
        raise NotImplementedError

    def text(self) -> ColumnElement[Any]:
        raise NotImplementedError

    def is_bool(self, value: bool) -> ColumnElement[bool]:
        raise NotImplementedError

    def has_element(self, value: Scalar) -> ColumnElement[bool]:
        raise NotImplementedError

    def truthy(self) -> ColumnElement[bool]:
        raise NotImplementedError

    def ordered_text(self) -> ColumnElement[Any]:
        # Python orders strings by code point; PostgreSQL must not use the locale's order.
        return self.text().collate("C") if self.pg else self.text()

    def contains_text(self, value: str) -> ColumnElement[bool]:
        finder = func.strpos if self.pg else func.instr
        return finder(self.text(), value) > 0

    def within_text(self, value: str) -> ColumnElement[bool]:
        finder = func.strpos if self.pg else func.instr
        return finder(literal(value), self.text()) > 0


class _Absent(_Ref):
    """A path that can never hold a value, such as `contact.email.domain`."""

    def missing(self) -> ColumnElement[bool]:
        return true()

    def number(self) -> ColumnElement[Any]:
        return literal(None)

    def text(self) -> ColumnElement[Any]:
        return literal(None)

    def is_bool(self, value: bool) -> ColumnElement[bool]:
        return false()

    def has_element(self, value: Scalar) -> ColumnElement[bool]:
        return false()

    def truthy(self) -> ColumnElement[bool]:
        return false()


class _Column(_Ref):
    """A plain column: a string (email, phone, ...) or a number (id, score), or NULL."""

    def __init__(self, pg: bool, column: Any, kind: str) -> None:
        super().__init__(pg)
        self.column = column
        self.kind = kind

    def missing(self) -> ColumnElement[bool]:
        return self.column.is_(None)  # type: ignore[no-any-return]

    def number(self) -> ColumnElement[Any]:
        return self.column if self.kind == "number" else literal(None)

    def text(self) -> ColumnElement[Any]:
        return self.column if self.kind == "string" else literal(None)

    def is_bool(self, value: bool) -> ColumnElement[bool]:
        return false()

    def has_element(self, value: Scalar) -> ColumnElement[bool]:
        return false()

    def truthy(self) -> ColumnElement[bool]:
        empty: Any = "" if self.kind == "string" else 0
        return _sure(and_(self.column.is_not(None), self.column != empty))


class _Json(_Ref):
    """A path inside a JSON column (attributes, consent, tags, an event's properties)."""

    def __init__(self, pg: bool, column: Any, path: tuple[str, ...]) -> None:
        super().__init__(pg)
        self.column = column
        self.path = path
        self.sqlite_path = "$" + "".join(f'."{key}"' for key in path)

    # -- the dialects' primitives

    def _value(self) -> Any:
        """PostgreSQL: the jsonb at the path (NULL when missing)."""
        return func.jsonb_extract_path(self.column, *self.path) if self.path else self.column

    def _type(self) -> Any:
        """The JSON type's name: PostgreSQL's jsonb_typeof, SQLite's json_type."""
        if self.pg:
            return func.jsonb_typeof(self._value())
        return func.json_type(self.column, self.sqlite_path)

    def _kind_is(self, kind: str) -> ColumnElement[bool]:
        names = {
            "string": ("string",) if self.pg else ("text",),
            "number": ("number",) if self.pg else ("integer", "real"),
            "array": ("array",),
            "object": ("object",),
        }[kind]
        return self._type().in_(names)  # type: ignore[no-any-return]

    def _raw_text(self) -> Any:
        if self.pg:
            if self.path:
                return func.jsonb_extract_path_text(self.column, *self.path)
            return self.column.op("#>>")(literal_column("'{}'"))
        return func.json_extract(self.column, self.sqlite_path)

    # -- the views

    def missing(self) -> ColumnElement[bool]:
        kind = self._type()
        return _sure(or_(kind.is_(None), kind == "null"))

    def number(self) -> ColumnElement[Any]:
        raw = cast(self._raw_text(), Float) if self.pg else self._raw_text()
        return case((self._kind_is("number"), raw))

    def text(self) -> ColumnElement[Any]:
        return case((self._kind_is("string"), type_coerce(self._raw_text(), String())))

    def is_bool(self, value: bool) -> ColumnElement[bool]:
        if self.pg:
            return _sure(self._value() == _jsonb(value))
        return _sure(self._type() == ("true" if value else "false"))

    def has_element(self, value: Scalar) -> ColumnElement[bool]:
        if isinstance(value, tuple):
            return false()
        if self.pg:
            items = func.jsonb_array_elements(self._value()).table_valued("value").alias("item")
            found = select(1).select_from(items).where(items.c.value == _jsonb(value)).exists()
            # CASE, not AND: only CASE promises not to look inside what is not an array.
            return _sure(case((self._kind_is("array"), found), else_=false()))
        items = func.json_each(self.column, self.sqlite_path).table_valued("value", "type")
        item = items.alias("item")
        return _sure(
            and_(
                self._kind_is("array"),
                select(1).select_from(item).where(_sqlite_item_is(item, value)).exists(),
            )
        )

    def truthy(self) -> ColumnElement[bool]:
        if self.pg:
            kind = self._type()
            whens: list[tuple[Any, Any]] = [
                (kind == "boolean", self._value() == _jsonb(True)),
                (kind == "number", self.number() != 0),
                (kind == "string", self._raw_text() != ""),
                (kind == "array", func.jsonb_array_length(self._value()) > 0),
                (kind == "object", self._value() != _jsonb({})),
            ]
        else:
            kind = self._type()
            raw = self._raw_text()
            whens = [
                (kind == "true", true()),
                (kind.in_(("integer", "real")), raw != 0),
                (kind == "text", raw != ""),
                (kind == "array", func.json_array_length(self.column, self.sqlite_path) > 0),
                (kind == "object", raw != "{}"),
            ]
        return _sure(case(*whens, else_=false()))


def _jsonb(value: Any) -> Any:
    """A constant as PostgreSQL jsonb."""
    return cast(literal(json.dumps(value)), JSONB)


def _sqlite_item_is(item: Any, value: Scalar) -> ColumnElement[bool]:
    """One element of a SQLite json_each equals a constant, kinds included."""
    if value is None:
        return item.c.type == "null"  # type: ignore[no-any-return]
    if isinstance(value, bool):
        return item.c.type == ("true" if value else "false")  # type: ignore[no-any-return]
    if isinstance(value, int | float):
        return and_(item.c.type.in_(("integer", "real")), item.c.value == value)
    return and_(item.c.type == "text", item.c.value == value)


class _Compiler:
    def __init__(self, pg: bool, now: datetime | None, whole: bool) -> None:
        self.pg = pg
        self.now = now
        self.whole = whole
        self.event_row: FromClause | None = None
        self.aliases = count()

    def compile(self, cond: Condition) -> ColumnElement[bool]:
        match cond:
            case And(items=items):
                return and_(*(self.compile(item) for item in items))
            case Or(items=items):
                return or_(*(self.compile(item) for item in items))
            case Not(item=item):
                return not_(self.compile(item))
            case Behaviour():
                return self.behaviour(cond)
            case IsNull(operand=Literal()) | Truthy(operand=Literal()):
                return self.constant(cond)
            case IsNull(operand=Field() as ref, negated=negated):
                missing = self.ref(ref).missing()
                return not_(missing) if negated else missing
            case Truthy(operand=Field() as ref):
                return self.ref(ref).truthy()
            case Compare(left=Literal(), right=Literal()):
                return self.constant(cond)
            case Compare(op=op, left=Field() as ref, right=Literal(value=value)):
                return self.compare(op, self.ref(ref), value)
            case Compare(op=op, left=Literal(value=value), right=Field() as ref):
                return self.compare_reversed(op, value, self.ref(ref))
        raise NotInSql(
            f"{cond} compares two fields; a segment compares a field with a value"
            if isinstance(cond, Compare)
            else f"{cond} cannot be computed for a segment"
        )

    def constant(self, cond: Condition) -> ColumnElement[bool]:
        return true() if evaluate(cond, Facts(contact={})) else false()

    # -- fields

    def ref(self, ref: Field) -> _Ref:
        head, rest = ref.path[0], ref.path[1:]
        match ref.root:
            case "contact" if head in ("segments", "journeys"):
                raise NotInSql(
                    f"{ref} is known to workflows only; a segment can repeat the other"
                    " segment's condition instead"
                )
            case "contact":
                if head in _STRING_COLUMNS or head in _NUMBER_COLUMNS:
                    if rest:
                        return _Absent(self.pg)
                    kind = "string" if head in _STRING_COLUMNS else "number"
                    return _Column(self.pg, contacts.c[head], kind)
                if head == "tags":
                    return _Absent(self.pg) if rest else _Json(self.pg, contacts.c.tags, ())
                if head == "scores":
                    return _Json(self.pg, contacts.c.scores, rest)
                return _Json(self.pg, contacts.c.attributes, ref.path)
            case "consent":
                return _Json(self.pg, contacts.c.consent, ref.path)
            case "event" if self.event_row is not None:
                return _Json(self.pg, self.event_row.c.properties, ref.path)
        raise NotInSql(
            f"{ref} has no meaning in a segment; use contact., consent., "
            "or event. inside a behaviour rule's where"
        )

    # -- comparisons

    def equals(self, ref: _Ref, value: Scalar | tuple[Scalar, ...]) -> ColumnElement[bool]:
        if value is None:
            return ref.missing()
        if isinstance(value, bool):
            return ref.is_bool(value)
        if isinstance(value, int | float):
            return _sure(ref.number() == value)
        if isinstance(value, str):
            return _sure(ref.text() == value)
        return false()  # a list constant never equals a stored value

    def ordered(self, op: Op, ref: _Ref, value: Any) -> ColumnElement[bool]:
        if isinstance(value, bool) or value is None or isinstance(value, tuple):
            return false()
        if isinstance(value, str):
            return _sure(_ordered(op, ref.ordered_text(), value))
        return _sure(_ordered(op, ref.number(), value))

    def contains(self, ref: _Ref, value: Any) -> ColumnElement[bool]:
        if isinstance(value, str):
            return or_(_sure(ref.contains_text(value)), ref.has_element(value))
        return ref.has_element(value)

    def member_of(self, ref: _Ref, values: Any) -> ColumnElement[bool]:
        if not isinstance(values, tuple):
            return false()
        return or_(false(), *(self.equals(ref, v) for v in values))

    def compare(self, op: Op, ref: _Ref, value: Any) -> ColumnElement[bool]:
        match op:
            case Op.EQ:
                return self.equals(ref, value)
            case Op.NE:
                return not_(self.equals(ref, value))
            case Op.LT | Op.LE | Op.GT | Op.GE:
                return self.ordered(op, ref, value)
            case Op.IN:
                return self.member_of(ref, value)
            case Op.NOT_IN:
                return and_(not_(ref.missing()), not_(self.member_of(ref, value)))
            case Op.CONTAINS:
                return self.contains(ref, value)
            case Op.NOT_CONTAINS:
                return and_(not_(ref.missing()), not_(self.contains(ref, value)))

    def compare_reversed(self, op: Op, value: Any, ref: _Ref) -> ColumnElement[bool]:
        """`constant op field`."""
        match op:
            case Op.EQ | Op.NE | Op.LT | Op.LE | Op.GT | Op.GE:
                return self.compare(_FLIPPED[op], ref, value)
            case Op.IN:
                return ref.has_element(value)
            case Op.NOT_IN:
                return false() if value is None else not_(ref.has_element(value))
            case Op.CONTAINS | Op.NOT_CONTAINS:
                if isinstance(value, str):
                    found = _sure(ref.within_text(value))
                elif isinstance(value, tuple):
                    found = self.member_of(ref, value)
                else:
                    found = false()
                if op is Op.CONTAINS:
                    return found
                return false() if value is None else not_(found)

    # -- behaviour

    def behaviour(self, rule: Behaviour) -> ColumnElement[bool]:
        """Two shapes, the same meaning. For a few contacts, one indexed look-up of each
        contact's events; for everyone, one pass that groups the events by contact (the
        look-up per contact is several times slower over a million of them: bench/)."""
        row, measure, tests = self.measure(rule)
        if not self.whole:
            return _measured(rule, self.total(row, measure, tests))
        return self.grouped(rule, row, measure, tests)

    def measure(self, rule: Behaviour) -> tuple[Any, Any, list[ColumnElement[bool]]]:
        """The events table the rule reads (its own alias), what it adds up, and which of
        the events count."""
        row = events.alias(f"ev{next(self.aliases)}")
        tests: list[ColumnElement[bool]] = []
        if rule.event is not None:
            tests.append(row.c.name == rule.event)
        if rule.within is not None:
            if self.now is None:
                raise NotInSql("a behaviour rule with 'within' needs the current time")
            tests.append(row.c.occurred_at >= self.now - rule.within)
        if rule.where is not None:
            outer, self.event_row = self.event_row, row
            try:
                tests.append(self.compile(rule.where))
            finally:
                self.event_row = outer
        if rule.aggregate is Aggregate.COUNT:
            measure: Any = func.count()
        else:
            value = _Json(self.pg, row.c.properties, rule.prop).number()
            if rule.aggregate is Aggregate.TOTAL:
                measure = func.coalesce(func.sum(value), 0)
            else:
                measure = getattr(func, _SQL_AGGREGATES[rule.aggregate])(value)
        return row, measure, tests

    def total(self, row: Any, measure: Any, tests: list[ColumnElement[bool]]) -> Any:
        """What the rule adds up for the contact at hand: one indexed look-up."""
        found = select(measure).where(row.c.contact_id == contacts.c.id, *tests)
        return found.scalar_subquery()

    def grouped(
        self, rule: Behaviour, row: Any, measure: Any, tests: list[ColumnElement[bool]]
    ) -> ColumnElement[bool]:
        """The rule for every contact at once, from one pass grouping the events."""
        # Grouping sees only contacts with matching events; those without are the empty
        # case, decided here once: `not performed X` holds for them, `performed X` does not.
        holds_for_none = evaluate(rule, Facts(contact={}, now=self.now))
        test = _measured(rule, measure)
        grouped = select(row.c.contact_id).where(*tests).group_by(row.c.contact_id)
        grouped = grouped.having(not_(test) if holds_for_none else test)
        if self.pg:
            # EXISTS over the grouped rows becomes a hashed semi- or anti-join; NOT IN
            # would be hashed only when the planner guesses the ids fit in work_mem, and
            # is quadratic when it guesses wrong.
            found = grouped.subquery()
            hit: ColumnElement[bool] = (
                select(1).select_from(found).where(found.c.contact_id == contacts.c.id).exists()
            )
        else:
            hit = contacts.c.id.in_(grouped)  # SQLite indexes the ids of an IN once
        return not_(hit) if holds_for_none else hit


def _measured(rule: Behaviour, total: Any) -> ColumnElement[bool]:
    """The rule's comparison on its aggregate, true or false even when it is unknown."""
    if rule.op is Op.NE:  # an average of no numbers is unknown, and unknown != 0
        return not_(_sure(total == rule.value))
    return _sure(_ordered(rule.op, total, rule.value))


def condition_sql(
    cond: Condition, dialect: str, now: datetime | None, *, whole: bool = False
) -> ColumnElement[bool]:
    """`cond` as a SQL test on a row of `contacts`, true exactly where `evaluate` is.

    `whole` picks the shape for scanning every contact (a segment's fill, a preview)
    over the shape for a handful of known contacts (membership after a batch of events).

    Raises:
        NotInSql: for what a segment cannot compute (two fields compared, trigger fields).
    """
    return _Compiler(dialect == "postgresql", now, whole).compile(cond)


def behaviour_measure_sql(rule: Behaviour, dialect: str, now: datetime | None) -> Any:
    """What a behaviour rule adds up (a count, total, average, min or max) for the row of
    `contacts` at hand, as a segment's rule adds it up: a workflow's rule means the same.

    Raises:
        NotInSql: for a `where` a segment cannot compute.
    """
    compiler = _Compiler(dialect == "postgresql", now, whole=False)
    return compiler.total(*compiler.measure(rule))
