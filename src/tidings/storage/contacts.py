"""The contacts table: one profile per person, found by the business's own user id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, or_, select, update

from tidings.cleaning import fold_email
from tidings.core.capture import FIRST_TOUCH_KEYS, FIRST_TOUCH_TRAIT
from tidings.core.state import ContactView
from tidings.storage.dialect import insert_for, prepared
from tidings.storage.tables import contacts

#: Traits that live in their own columns rather than in `attributes`.
_COLUMN_TRAITS = ("email", "phone", "timezone")


@dataclass(frozen=True)
class Identity:
    """How an incoming call names its contact, and the traits it carries.

    `user_id` is the business's own id for a known person; `anonymous_id` names a browser
    or device before (or besides) that. At least one is set.
    """

    user_id: str | None
    anonymous_id: str | None
    traits: Mapping[str, Any]

    @property
    def key(self) -> str:
        """What the caller looks the resolved contact up by."""
        return f"u:{self.user_id}" if self.user_id is not None else f"a:{self.anonymous_id}"


def contact_from_row(row: Row[Any]) -> ContactView:
    """Build the core's view of a contact from its row."""
    return ContactView(
        id=row.id,
        external_id=row.external_id,
        email=row.email,
        phone=row.phone,
        timezone=row.timezone,
        attributes=row.attributes,
        tags=frozenset(row.tags),
        consent=row.consent,
        score=row.score,
        scores=row.scores or {},
    )


def _split_traits(traits: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    columns = {k: traits[k] for k in _COLUMN_TRAITS if traits.get(k) is not None}
    attributes = {
        k: v
        for k, v in traits.items()
        if k not in _COLUMN_TRAITS and k not in ("consent", FIRST_TOUCH_TRAIT)
    }
    return columns, attributes


def upsert_contacts(
    conn: Connection, workspace_id: int, identities: Sequence[Identity], now: datetime
) -> dict[str, ContactView]:
    """Find or create the contacts named in `identities`, in order; return them by `key`.

    A known user id wins. A call with both ids claims the anonymous profile it browsed
    as, so its history becomes the user's. Traits only add and overwrite: a trait missing
    from a call never erases a known value.
    """
    user_ids = {i.user_id for i in identities if i.user_id is not None}
    anonymous_ids = {i.anonymous_id for i in identities if i.anonymous_id is not None}
    found = conn.execute(
        prepared(conn, "contacts_by_identity", _by_identity),
        {"workspace_id": workspace_id, "users": list(user_ids), "anons": list(anonymous_ids)},
    ).all()
    records = [_Record.from_row(row) for row in found]
    by_user = {r.values["external_id"]: r for r in records if r.values["external_id"] is not None}
    by_anon = {r.values["anonymous_id"]: r for r in records if r.values["anonymous_id"] is not None}
    resolved: dict[str, _Record] = {}
    for ident in identities:
        record = resolved.get(ident.key) or _resolve(ident, by_user, by_anon, workspace_id, now)
        if ident.user_id is not None:
            by_user[ident.user_id] = record
            resolved[f"u:{ident.user_id}"] = record
        if ident.anonymous_id is not None:
            if record.values["anonymous_id"] is None and ident.anonymous_id not in by_anon:
                record.set("anonymous_id", ident.anonymous_id)
            by_anon.setdefault(ident.anonymous_id, record)
            resolved.setdefault(f"a:{ident.anonymous_id}", record)
        record.absorb(ident.traits)

    unique = {id(r): r for r in resolved.values()}.values()
    created = [r for r in unique if r.id is None]
    if created:
        rows = [{**r.values, "workspace_id": workspace_id} for r in created]
        conn.execute(prepared(conn, "contacts_insert", _insert_new), rows)
        # Read back rather than RETURNING: a concurrent writer may have inserted the row.
        again = conn.execute(
            prepared(conn, "contacts_by_identity", _by_identity),
            {
                "workspace_id": workspace_id,
                "users": [r.values["external_id"] for r in created if r.values["external_id"]],
                "anons": [r.values["anonymous_id"] for r in created if r.values["anonymous_id"]],
            },
        ).all()
        for record in created:
            record.id = next(row.id for row in again if record.is_row(row))
    changed = [r for r in unique if r.id is not None and r.changed and r not in created]
    if changed:
        rows = [{"b_id": r.id, **r.values, "updated_at": now} for r in changed]
        conn.execute(prepared(conn, "contacts_update_identity", _update_by_id), rows)
    return {key: record.view() for key, record in resolved.items()}


class _Record:
    """A contact row being resolved and changed in memory before one write."""

    COLUMNS = (
        "external_id",
        "anonymous_id",
        "email",
        "phone",
        "timezone",
        "attributes",
        "tags",
        "consent",
        "score",
    )

    def __init__(
        self,
        contact_id: int | None,
        values: dict[str, Any],
        scores: Mapping[str, float] | None = None,
    ) -> None:
        self.id = contact_id
        self.values = values
        self.changed = False
        # Read, never written here: scoring owns the column, but conditions and templates
        # on this event's journeys see the scores as they are.
        self.scores = scores or {}

    @classmethod
    def from_row(cls, row: Row[Any]) -> _Record:
        return cls(row.id, {c: getattr(row, c) for c in cls.COLUMNS}, row.scores or {})

    @classmethod
    def new(cls, ident: Identity, now: datetime) -> _Record:
        values: dict[str, Any] = {
            "external_id": ident.user_id,
            "anonymous_id": ident.anonymous_id,
            "email": None,
            "phone": None,
            "timezone": "UTC",
            "attributes": {},
            "tags": [],
            "consent": {},
            "score": 0.0,
            "created_at": now,
            "updated_at": now,
        }
        return cls(None, values)

    def is_row(self, row: Row[Any]) -> bool:
        """True when `row` is this record's contact, read back after inserting it."""
        user, anon = self.values["external_id"], self.values["anonymous_id"]
        return (user is not None and row.external_id == user) or (
            anon is not None and row.anonymous_id == anon
        )

    def set(self, column: str, value: Any) -> None:
        if self.values.get(column) != value:
            self.values[column] = value
            self.changed = True

    def absorb(self, traits: Mapping[str, Any]) -> None:
        columns, attributes = _split_traits(traits)
        for column, value in columns.items():
            self.set(column, value)
        if attributes:
            self.set("attributes", {**self.values["attributes"], **attributes})
        touch = traits.get(FIRST_TOUCH_TRAIT)
        known = self.values["attributes"]
        # The first visit's source, as one set: a later visit never overwrites any of it.
        if isinstance(touch, Mapping) and touch and not any(k in known for k in FIRST_TOUCH_KEYS):
            self.set("attributes", {**touch, **known})
        consent = traits.get("consent")
        if isinstance(consent, Mapping) and consent:
            self.set("consent", {**self.values["consent"], **consent})

    def view(self) -> ContactView:
        assert self.id is not None
        v = self.values
        return ContactView(
            id=self.id,
            external_id=v["external_id"],
            email=v["email"],
            phone=v["phone"],
            timezone=v["timezone"],
            attributes=v["attributes"],
            tags=frozenset(v["tags"]),
            consent=v["consent"],
            score=v["score"],
            scores=self.scores,
        )


def _resolve(
    ident: Identity,
    by_user: dict[str, _Record],
    by_anon: dict[str, _Record],
    workspace_id: int,
    now: datetime,
) -> _Record:
    if ident.user_id is not None and ident.user_id in by_user:
        return by_user[ident.user_id]
    if ident.anonymous_id is not None and ident.anonymous_id in by_anon:
        record = by_anon[ident.anonymous_id]
        if ident.user_id is None:
            return record
        if record.values["external_id"] is None:
            record.set("external_id", ident.user_id)  # the anonymous visitor signed in
            return record
    return _Record.new(ident, now)


def _by_identity(conn: Connection) -> Any:
    # Locked, in id order: a transaction that changes a contact holds it until it commits,
    # and lockers that always go in the same order cannot deadlock one another.
    return (
        select(contacts)
        .where(
            contacts.c.workspace_id == bindparam("workspace_id"),
            or_(
                contacts.c.external_id.in_(bindparam("users", expanding=True)),
                contacts.c.anonymous_id.in_(bindparam("anons", expanding=True)),
            ),
        )
        .order_by(contacts.c.id)
        .with_for_update()
    )


def _insert_new(conn: Connection) -> Any:
    # No conflict target: a concurrent writer may win on the user id or the anonymous id.
    return insert_for(conn, contacts).on_conflict_do_nothing()


def _update_by_id(conn: Connection) -> Any:
    return update(contacts).where(contacts.c.id == bindparam("b_id"))


def load_contacts(conn: Connection, ids: Iterable[int]) -> dict[int, ContactView]:
    """The contacts with these ids, as core views, locked until the transaction ends.

    Journeys change contacts (tags, score, consent); the lock makes two workers touching
    one contact take turns instead of one overwriting the other's change.
    """
    wanted = list(set(ids))
    if not wanted:
        return {}
    stmt = prepared(
        conn,
        "contacts_by_id",
        lambda c: (
            select(contacts)
            .where(contacts.c.id.in_(bindparam("ids", expanding=True)))
            .order_by(contacts.c.id)
            .with_for_update()
        ),
    )
    return {row.id: contact_from_row(row) for row in conn.execute(stmt, {"ids": wanted})}


def save_contacts(conn: Connection, views: Iterable[ContactView], now: datetime) -> None:
    """Write back contacts that workflows changed (attributes, tags, score, consent)."""
    rows = [
        {
            "b_id": v.id,
            "email": v.email,
            "phone": v.phone,
            "timezone": v.timezone,
            "attributes": dict(v.attributes),
            "tags": sorted(v.tags),
            "consent": dict(v.consent),
            "score": v.score,
            "updated_at": now,
        }
        for v in views
    ]
    if rows:
        conn.execute(prepared(conn, "contacts_update_all", _update_by_id), rows)


def find_contact(conn: Connection, workspace_id: int, ref: str) -> int | None:
    """A contact's id from its numeric id, user id, email or anonymous id."""
    query = select(contacts.c.id).where(contacts.c.workspace_id == workspace_id)
    if ref.isdigit():
        found = conn.execute(query.where(contacts.c.id == int(ref))).scalar()
        if found is not None:
            return int(found)
    for column in (contacts.c.external_id, contacts.c.email, contacts.c.anonymous_id):
        found = conn.execute(query.where(column == ref).limit(1)).scalar()
        if found is not None:
            return int(found)
    return None


def external_ids(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """The business's own user ids of these contacts, by contact id."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(contacts.c.id, contacts.c.external_id).where(contacts.c.id.in_(wanted))
    )
    return {row.id: row.external_id for row in rows if row.external_id is not None}


def count_contacts(conn: Connection) -> int:
    """How many contacts the database holds, across workspaces."""
    return int(conn.execute(select(func.count()).select_from(contacts)).scalar_one())


def contacts_by_address(conn: Connection, workspace_id: int, kind: str, value: str) -> list[int]:
    """The contacts with this email (any case) or phone number."""
    column = contacts.c.email if kind == "email" else contacts.c.phone
    wanted = fold_email(value) if kind == "email" else value.strip()
    match = func.lower(column) == wanted if kind == "email" else column == wanted
    rows = conn.execute(
        select(contacts.c.id).where(contacts.c.workspace_id == workspace_id, match).limit(100)
    )
    return [int(r) for r in rows.scalars()]
