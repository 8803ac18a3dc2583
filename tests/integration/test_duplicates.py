"""Duplicate contacts merged with their history, and one contact's data exported."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Store
from tests.integration.journeys import identify, rows, stored_json, track
from tidings.runtime.ingest import IDENTIFY, Incoming, ingest
from tidings.runtime.merges import merge_duplicates
from tidings.storage.personal_data import personal_data


def anonymous(store: Store, anon: str, name: str, **data: Any) -> None:
    item = Incoming(
        f"{anon}-{name}",
        None,
        name,
        store.clock.now(),
        anonymous_id=anon,
        **({"traits": data} if name == IDENTIFY else {"properties": data}),
    )
    ingest(store.engine, store.workspace_id, [item], store.clock, store.catalog)


def merge(store: Store, dry_run: bool = False) -> list[Any]:
    return merge_duplicates(store.engine, store.workspace_id, store.clock.now(), dry_run=dry_run)


def test_duplicates_merge_into_the_known_user_keeping_history_and_withdrawals(
    store: Store,
) -> None:
    identify(store, "u1", email="ann@example.com", plan="pro")
    track(store, "u1", "signed_up")
    # The same person browsing anonymously, her email typed differently, who unsubscribed.
    anonymous(
        store, "anon-1", IDENTIFY, email=" ANN@Example.com", consent={"email": "unsubscribed"}
    )
    anonymous(store, "anon-1", "page_viewed", url="/pricing")
    # Two people sharing a family address, each with the business's own user id.
    identify(store, "dad", email="home@example.com")
    identify(store, "kid", email="home@example.com")

    preview = merge(store, dry_run=True)
    assert rows(store, "SELECT count(*) FROM contacts")[0][0] == 4  # a dry run merges nothing
    done = merge(store)
    assert [(g.shared, len(g.merged), g.skipped) for g in done] == [
        ("email ann@example.com", 1, ""),
        ("email home@example.com", 1, "different user ids (dad, kid)"),
    ]
    assert [(g.shared, g.merged) for g in preview] == [(g.shared, g.merged) for g in done]
    assert done[0].events == 2  # the anonymous identify and page view moved
    [ann] = rows(store, "SELECT id, consent, attributes FROM contacts WHERE external_id = 'u1'")
    assert stored_json(ann.consent) == {"email": "unsubscribed"}  # the withdrawal stands
    assert stored_json(ann.attributes)["plan"] == "pro"
    names = rows(store, "SELECT name FROM events WHERE contact_id = :c ORDER BY id", c=ann.id)
    assert [r[0] for r in names] == ["$identify", "signed_up", "$identify", "page_viewed"]
    assert rows(store, "SELECT count(*) FROM contacts")[0][0] == 3
    assert merge(store)[0].skipped  # nothing left to merge but the family


def test_the_personal_data_export_holds_everything_about_one_contact(store: Store) -> None:
    identify(store, "u1", email="ann@example.com", plan="pro")
    track(store, "u1", "page_viewed", url="/pricing")
    identify(store, "u2", email="bob@example.com")
    [ann] = rows(store, "SELECT id FROM contacts WHERE external_id = 'u1'")
    with store.engine.connect() as conn:
        data = personal_data(conn, store.workspace_id, ann.id)
        assert personal_data(conn, store.workspace_id + 1, ann.id) is None
    assert data is not None
    assert data["profile"]["email"] == "ann@example.com"
    assert [e["name"] for e in data["events"]] == ["$identify", "page_viewed"]
    assert "bob@example.com" not in str(data)
