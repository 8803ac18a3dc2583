"""The SQL evaluator agrees with the in-memory one, on generated contacts and conditions."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from tidings.core.conditions import Facts, evaluate, parse_condition, to_text
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
    Truthy,
)
from tidings.core.state import ContactView, EventView
from tidings.storage.condition_sql import condition_sql
from tidings.storage.tables import contacts, events
from tidings.storage.workspaces import ensure_workspace

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
_workspaces = count()

# Small pools, so that generated constants often meet generated values.
texts = st.sampled_from(["", "a", "ab", "pro", "B", "é", "/pricing", "/pricing/teams"])
numbers = st.one_of(st.integers(-2, 3), st.sampled_from([0.5, 2.5, -1.5, 0.0]))
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.sampled_from(["x", "y"]), scalars, max_size=2),
)
literals = st.one_of(scalars, st.tuples(scalars, scalars))

contact_fields = st.sampled_from(
    [
        ("contact", ("plan",)),
        ("contact", ("age",)),
        ("contact", ("items",)),
        ("contact", ("meta",)),
        ("contact", ("meta", "x")),
        ("contact", ("email",)),
        ("contact", ("email", "domain")),
        ("contact", ("score",)),
        ("contact", ("tags",)),
        ("contact", ("timezone",)),
        ("contact", ("missing",)),
        ("contact", ("scores", "fit")),
        ("contact", ("scores",)),
        ("consent", ("email",)),
    ]
).map(lambda rp: Field(*rp))
event_fields = st.sampled_from([("url",), ("revenue",), ("items",), ("missing",)]).map(
    lambda path: Field("event", path)
)


def leaves(fields: st.SearchStrategy[Field]) -> st.SearchStrategy[Condition]:
    ops = st.sampled_from(list(Op))
    return st.one_of(
        st.builds(Compare, ops, fields, st.builds(Literal, literals)),
        st.builds(Compare, ops, st.builds(Literal, literals), fields),
        st.builds(Compare, ops, st.builds(Literal, literals), st.builds(Literal, literals)),
        st.builds(IsNull, fields, st.booleans()),
        st.builds(Truthy, fields),
    )


def combined(base: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
    return st.recursive(
        base,
        lambda inner: st.one_of(
            st.builds(Not, inner),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
        ),
        max_leaves=4,
    )


behaviours = st.builds(
    Behaviour,
    event=st.sampled_from(["view", "buy", None]),
    op=st.sampled_from([Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE]),
    value=numbers,
    where=st.one_of(st.none(), combined(leaves(event_fields))),
    within=st.sampled_from([None, timedelta(hours=1), timedelta(days=7), timedelta(days=90)]),
    aggregate=st.sampled_from(list(Aggregate)),
    prop=st.just(("revenue",)),
)
conditions = combined(st.one_of(leaves(contact_fields), behaviours))

event_props = st.fixed_dictionaries(
    {},
    optional={
        "url": st.one_of(texts, numbers),
        "revenue": st.one_of(numbers, texts, st.none()),
        "items": st.lists(scalars, max_size=2),
    },
)
people = st.fixed_dictionaries(
    {
        "email": st.one_of(st.none(), st.sampled_from(["ann@example.com", "pro", ""])),
        "score": st.sampled_from([0.0, 2.5, -1.5, 3.0]),
        "scores": st.dictionaries(st.sampled_from(["fit", "engagement"]), numbers),
        "timezone": st.sampled_from(["UTC", "Europe/Paris"]),
        "tags": st.lists(st.sampled_from(["a", "vip", "pro"]), unique=True, max_size=2).map(sorted),
        "consent": st.dictionaries(
            st.just("email"), st.sampled_from(["subscribed", "unsubscribed"])
        ),
        "attributes": st.dictionaries(
            st.sampled_from(["plan", "age", "items", "meta"]), values, max_size=4
        ),
        "events": st.lists(
            st.tuples(
                st.sampled_from(["view", "buy", "other"]),
                event_props,
                st.integers(-24 * 120, 6),
            ),
            max_size=5,
        ),
    }
)


def _store(engine: Engine, population: list[dict[str, Any]]) -> tuple[int, dict[int, Facts]]:
    facts: dict[int, Facts] = {}
    with engine.begin() as conn:
        workspace_id = ensure_workspace(conn, f"agree{next(_workspaces)}", "Agree", NOW)
        for n, person in enumerate(population):
            contact_id = conn.execute(
                contacts.insert().returning(contacts.c.id),
                {
                    "workspace_id": workspace_id,
                    "email": person["email"],
                    "score": person["score"],
                    "scores": person["scores"],
                    "timezone": person["timezone"],
                    "tags": person["tags"],
                    "consent": person["consent"],
                    "attributes": person["attributes"],
                    "created_at": NOW,
                    "updated_at": NOW,
                },
            ).scalar_one()
            history = [
                EventView(name, props, NOW + timedelta(hours=hours))
                for name, props, hours in person["events"]
            ]
            if history:
                conn.execute(
                    events.insert(),
                    [
                        {
                            "workspace_id": workspace_id,
                            "contact_id": contact_id,
                            "message_id": f"{n}-{i}",
                            "name": e.name,
                            "properties": e.properties,
                            "occurred_at": e.occurred_at,
                            "received_at": NOW,
                        }
                        for i, e in enumerate(history)
                    ],
                )
            view = ContactView(
                id=contact_id,
                attributes=person["attributes"],
                email=person["email"],
                timezone=person["timezone"],
                tags=frozenset(person["tags"]),
                consent=person["consent"],
                score=person["score"],
                scores=person["scores"],
            )
            facts[contact_id] = Facts(
                contact=view.fields(), consent=view.consent, history=history, now=NOW
            )
    return workspace_id, facts


@settings(
    max_examples=int(os.environ.get("AGREE_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    population=st.lists(people, min_size=1, max_size=6),
    conds=st.lists(conditions, min_size=1, max_size=4),
)
def test_sql_and_memory_pick_the_same_contacts(
    engine: Engine, population: list[dict[str, Any]], conds: list[Condition]
) -> None:
    workspace_id, facts = _store(engine, population)
    with engine.connect() as conn:
        for cond in conds:
            in_memory = {cid for cid, f in facts.items() if evaluate(cond, f)}
            for whole in (False, True):  # both shapes: per contact, and grouped
                query = select(contacts.c.id).where(
                    contacts.c.workspace_id == workspace_id,
                    condition_sql(cond, engine.dialect.name, NOW, whole=whole),
                )
                in_sql = {row[0] for row in conn.execute(query)}
                assert in_sql == in_memory, (whole, to_text(cond))


def test_the_issue_s_own_rules_find_the_hand_counted_contacts(engine: Engine) -> None:
    def visits(n: int, url: str, days_ago: int) -> list[tuple[str, dict[str, Any], int]]:
        return [("page_viewed", {"url": url}, -24 * days_ago)] * n

    population = [
        # 0: three pricing visits this week, opened an email lately, small spender
        {"events": [*visits(3, "/pricing/teams", 2), ("email_opened", {}, -24 * 10)]},
        # 1: three pricing visits but one is older than a week
        {"events": visits(2, "/pricing", 1) + visits(1, "/pricing", 9)},
        # 2: bought long ago and big, never opened
        {"events": [("order_completed", {"revenue": 400}, -24 * 70)] * 2},
        # 3: bought recently
        {"events": [("order_completed", {"revenue": 30}, -24 * 5)]},
    ]
    full: list[dict[str, Any]] = [
        {
            "email": None,
            "score": 0.0,
            "scores": {},
            "timezone": "UTC",
            "tags": [],
            "consent": {},
            "attributes": {},
            **p,
        }
        for p in population
    ]
    workspace_id, facts = _store(engine, full)
    ids = sorted(facts)
    expected = {
        'performed page_viewed where event.url contains "/pricing" at least 3 times within 7d': {
            ids[0]
        },
        "not performed email_opened within 90d": {ids[1], ids[2], ids[3]},
        "last order_completed more than 60d ago": {ids[2]},
        "total event.revenue of order_completed > 500": {ids[2]},
    }
    with engine.connect() as conn:
        for text, wanted in expected.items():
            cond = parse_condition(text)
            query = select(contacts.c.id).where(
                contacts.c.workspace_id == workspace_id,
                condition_sql(cond, engine.dialect.name, NOW, whole=True),
            )
            assert {row[0] for row in conn.execute(query)} == wanted, text
            assert {cid for cid, f in facts.items() if evaluate(cond, f)} == wanted, text
