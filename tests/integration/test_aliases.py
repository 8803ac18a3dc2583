"""alias: two profiles of one person become one, history and consent withdrawals kept."""

from __future__ import annotations

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, enrollment_states, identify, rows, track
from tidings.runtime.ingest import Incoming, ingest
from tidings.runtime.merges import AliasCall
from tidings.storage.contacts import load_contacts
from tidings.storage.step_log import contact_story

BROWSE = """
id: browse
name: Browse follow-up
trigger: {event: viewed_product}
entry: {reentry: always}
steps:
  - {id: later, type: wait, for: 2d}
"""


def alias(store: Store, previous: str, user: str, message_id: str = "al1") -> None:
    call = AliasCall(message_id, previous, user, store.clock.now())
    ingest(store.engine, store.workspace_id, [call], store.clock, store.catalog)


def anonymous(store: Store, anon: str, name: str, **properties: object) -> None:
    item = Incoming(
        f"{anon}-{name}", None, name, store.clock.now(), properties=properties, anonymous_id=anon
    )
    ingest(store.engine, store.workspace_id, [item], store.clock, store.catalog)


def people(store: Store) -> list[tuple[str | None, str | None]]:
    return [
        (r.external_id, r.anonymous_id)
        for r in rows(store, "SELECT external_id, anonymous_id FROM contacts ORDER BY id")
    ]


def test_alias_merges_two_profiles_into_the_user(store: Store) -> None:
    deploy(store, BROWSE)
    anonymous(store, "browser-1", "viewed_product", sku="mug")
    identify(store, "u1", email="u1@example.com", consent={"email": "subscribed"}, plan="pro")
    identify(store, "u1", timezone="Europe/Paris")
    track(store, "u1", "viewed_product", sku="tote")
    # the anonymous visitor had said no to email; the account says yes
    identify_anon = Incoming(
        "ia",
        None,
        "$identify",
        store.clock.now(),
        traits={"consent": {"email": "unsubscribed"}, "city": "Lyon"},
        anonymous_id="browser-1",
    )
    ingest(store.engine, store.workspace_id, [identify_anon], store.clock, store.catalog)
    assert len(people(store)) == 2

    alias(store, "browser-1", "u1")

    assert people(store) == [("u1", "browser-1")]
    (survivor,) = rows(store, "SELECT id FROM contacts")
    with store.engine.connect() as conn:
        view = load_contacts(conn, [survivor.id])[survivor.id]
        story = contact_story(conn, survivor.id)
    assert view.consent["email"] == "unsubscribed"  # a withdrawal is never undone by a merge
    assert dict(view.attributes) == {"plan": "pro", "city": "Lyon"}
    assert view.timezone == "Europe/Paris"
    names = [
        r.name
        for r in rows(
            store, "SELECT name FROM events WHERE contact_id = :c ORDER BY id", c=survivor.id
        )
    ]
    assert names.count("viewed_product") == 2 and "$alias" in names
    # both were on the same journey at once: the survivor keeps one, the other is closed
    assert sorted(enrollment_states(store)) == [
        ("exited", "later", f"merged into contact {survivor.id}"),
        ("waiting", "later", None),
    ]
    assert any(line.action == "merged" for line in story)


def test_alias_of_an_unknown_user_gives_the_previous_profile_its_user_id(store: Store) -> None:
    anonymous(store, "browser-2", "viewed_product")
    alias(store, "browser-2", "u2")
    assert people(store) == [("u2", "browser-2")]
    track(store, "u2", "viewed_product")
    assert len(people(store)) == 1


def test_alias_of_two_unknown_ids_makes_one_profile_answering_to_both(store: Store) -> None:
    alias(store, "browser-3", "u3")
    anonymous(store, "browser-3", "viewed_product")
    track(store, "u3", "viewed_product")
    assert people(store) == [("u3", "browser-3")]


def test_a_retried_alias_changes_nothing(store: Store) -> None:
    anonymous(store, "browser-4", "viewed_product")
    identify(store, "u4")
    alias(store, "browser-4", "u4")
    alias(store, "browser-4", "u4")  # same message id
    assert people(store) == [("u4", "browser-4")]
    assert len(rows(store, "SELECT id FROM events WHERE name = '$alias'")) == 1
