"""Segment-compatible ingestion over HTTP: auth, batches, limits, and nothing lost beside an error."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, outbox, rows, stored_json
from tidings.api import ingest as ingest_module
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key
from tidings.storage.workspaces import ensure_workspace

WELCOME = """
id: welcome
name: Welcome
trigger: {event: signed_up}
templates:
  hi: {subject: "Welcome {{ contact.first_name }}", text: "hi"}
steps:
  - {id: hello, type: send, template: hi}
"""


@pytest.fixture
def api(store: Store) -> Iterator[tuple[TestClient, str]]:
    with store.engine.begin() as conn:
        key = create_key(conn, store.workspace_id, KeyKind.WRITE, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app, follow_redirects=False) as client:
        yield client, key


def post(client: TestClient, key: str | None, path: str, body: Any, **headers: str) -> Any:
    if key is None:
        return client.post(path, content=json.dumps(body), headers=headers)
    return client.post(path, content=json.dumps(body), auth=(key, ""), headers=headers)


def events(store: Store) -> list[tuple[str, str]]:
    return [
        (r.name, r.message_id)
        for r in rows(store, "SELECT name, message_id FROM events ORDER BY id")
    ]


def test_a_track_call_is_committed_with_its_journey(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    deploy(store, WELCOME)
    identify = {
        "userId": "u1",
        "messageId": "i1",
        "traits": {
            "email": "ann@example.com",
            "first_name": "Ann",
            "consent": {"email": "subscribed"},
        },
    }
    assert post(client, key, "/v1/identify", identify).json() == {"success": True}
    response = post(
        client, key, "/v1/track", {"userId": "u1", "event": "signed_up", "messageId": "t1"}
    )
    assert response.status_code == 200 and response.json() == {"success": True}
    assert events(store) == [("$identify", "i1"), ("signed_up", "t1")]
    assert outbox(store) == [("1:hello:1", "Welcome Ann")]  # committed before the 2xx


def test_the_write_key_may_come_in_the_body(store: Store, api: tuple[TestClient, str]) -> None:
    client, key = api
    response = post(client, None, "/v1/track", {"userId": "u1", "event": "x", "writeKey": key})
    assert response.status_code == 200


@pytest.mark.parametrize("presented", [None, "tdw_not-a-real-key", ""])
def test_bad_keys_are_refused_and_nothing_is_stored(
    store: Store, api: tuple[TestClient, str], presented: str | None
) -> None:
    client, _ = api
    response = post(client, presented, "/v1/track", {"userId": "u1", "event": "x"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.headers["content-type"] == "application/problem+json"
    assert events(store) == []


def test_one_bad_call_in_a_batch_rejects_only_itself(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    batch = [
        {"type": "track", "userId": f"u{i}", "event": "viewed", "messageId": f"m{i}"}
        for i in range(500)
    ]
    batch[17] = {"type": "track", "userId": "u17", "messageId": "m17", "timestamp": "last tuesday"}
    response = post(client, key, "/v1/batch", {"batch": batch})
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 499
    assert body["rejected"] == [
        {
            "index": 17,
            "messageId": "m17",
            "errors": [
                {
                    "path": "batch[17].timestamp",
                    "message": "'last tuesday' is not an ISO-8601 time, like 2026-03-02T10:00:00Z",
                },
                {
                    "path": "batch[17].event",
                    "message": 'track needs the event\'s name, like "Order Completed"',
                },
            ],
        }
    ]
    assert len(events(store)) == 499


def test_retried_calls_are_stored_once(store: Store, api: tuple[TestClient, str]) -> None:
    client, key = api
    call = {"userId": "u1", "event": "x", "messageId": "same"}
    for _ in range(3):
        assert post(client, key, "/v1/track", call).status_code == 200
    assert events(store) == [("x", "same")]
    again = post(client, key, "/v1/batch", {"batch": [{**call, "type": "track"}]}).json()
    assert (again["accepted"], again["duplicates"]) == (1, 1)


def test_client_times_are_corrected_for_clock_skew(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    # The client's clock runs an hour slow: it says it sent at 11:00; it is 12:00 here.
    batch = {
        "sentAt": "2026-03-02T11:00:00Z",
        "batch": [
            {"type": "track", "userId": "u1", "event": "late", "timestamp": "2026-03-02T10:30:00Z"}
        ],
    }
    assert post(client, key, "/v1/batch", batch).status_code == 200
    (row,) = rows(store, "SELECT occurred_at FROM events")
    assert str(row.occurred_at).startswith("2026-03-02 11:30")


def test_historical_imports_keep_their_times_and_start_no_journeys(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    deploy(store, WELCOME)
    old = {
        "type": "track",
        "userId": "u1",
        "event": "signed_up",
        "timestamp": "2025-01-01T08:00:00Z",
    }
    assert post(client, key, "/v1/batch", {"batch": [old]}).json()["accepted"] == 1
    (row,) = rows(store, "SELECT occurred_at FROM events")
    assert str(row.occurred_at).startswith("2025-01-01 08:00")
    assert outbox(store) == []


def test_a_future_timestamp_is_taken_as_now(store: Store, api: tuple[TestClient, str]) -> None:
    client, key = api
    post(
        client,
        key,
        "/v1/track",
        {"userId": "u1", "event": "x", "timestamp": "2030-01-01T00:00:00Z"},
    )
    (row,) = rows(store, "SELECT occurred_at FROM events")
    assert str(row.occurred_at).startswith("2026-03-02 12:00")


def test_gzip_bodies_are_accepted_and_bombs_refused(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    body = gzip.compress(
        json.dumps({"batch": [{"type": "track", "userId": "u1", "event": "zipped"}]}).encode()
    )
    ok = client.post(
        "/v1/batch", content=body, auth=(key, ""), headers={"content-encoding": "gzip"}
    )
    assert ok.status_code == 200 and ok.json()["accepted"] == 1
    bomb = gzip.compress(b'{"batch": [' + b" " * 5_000_000 + b"]}")
    assert len(bomb) < 10_000
    refused = client.post(
        "/v1/batch", content=bomb, auth=(key, ""), headers={"content-encoding": "gzip"}
    )
    assert refused.status_code == 413
    odd = client.post(
        "/v1/batch", content=b"{}", auth=(key, ""), headers={"content-encoding": "br"}
    )
    assert odd.status_code == 415


def test_size_limits(store: Store, api: tuple[TestClient, str]) -> None:
    client, key = api
    big = {"userId": "u1", "event": "x", "properties": {"blob": "a" * 40_000}}
    assert post(client, key, "/v1/track", big).status_code == 413
    in_batch = post(
        client,
        key,
        "/v1/batch",
        {"batch": [{**big, "type": "track"}, {"type": "track", "userId": "u1", "event": "small"}]},
    )
    assert in_batch.status_code == 200
    assert in_batch.json()["rejected"][0]["errors"][0]["message"].endswith(
        "at most 32,768 are accepted"
    )
    huge = {
        "batch": [
            {"type": "track", "userId": "u1", "event": "x", "properties": {"p": "a" * 30_000}}
        ]
        * 20
    }
    assert post(client, key, "/v1/batch", huge).status_code == 413
    assert events(store) == [("small", events(store)[0][1])]


def test_malformed_requests_get_problem_documents(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    broken = client.post("/v1/track", content=b"{not json", auth=(key, ""))
    assert broken.status_code == 400 and broken.json()["title"] == "Malformed JSON"
    no_user = post(client, key, "/v1/track", {"event": "x"})
    assert no_user.status_code == 400
    assert no_user.json()["errors"] == [
        {"path": "userId", "message": "userId or anonymousId is required"}
    ]
    not_a_batch = post(client, key, "/v1/batch", {"batch": "nope"})
    assert not_a_batch.status_code == 400


def test_never_a_redirect(api: tuple[TestClient, str]) -> None:
    client, key = api
    assert post(client, key, "/v1/track/", {"userId": "u", "event": "x"}).status_code == 404
    assert client.get("/v1/track").status_code == 405


def test_overload_answers_503_with_retry_after(
    store: Store, api: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, key = api
    monkeypatch.setattr(ingest_module, "QUEUE_SECONDS", 0.05)
    service = client.app.state.ingest  # type: ignore[attr-defined]
    taken = [service.slots.acquire(timeout=1) for _ in range(8)]
    try:
        busy = post(client, key, "/v1/track", {"userId": "u1", "event": "x"})
    finally:
        for _ in taken:
            service.slots.release()
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    assert post(client, key, "/v1/track", {"userId": "u1", "event": "x"}).status_code == 200


def test_each_workspace_gets_its_own_events(store: Store, api: tuple[TestClient, str]) -> None:
    client, key = api
    with store.engine.begin() as conn:
        other = ensure_workspace(conn, "other", "Other", store.clock.now())
        other_key = create_key(conn, other, KeyKind.WRITE, store.clock.now())
    post(client, key, "/v1/track", {"userId": "u1", "event": "mine"})
    post(client, other_key, "/v1/track", {"userId": "u1", "event": "theirs"})
    owners = rows(
        store,
        "SELECT e.name, c.workspace_id FROM events e JOIN contacts c ON c.id = e.contact_id ORDER BY e.id",
    )
    assert [(r.name, r.workspace_id) for r in owners] == [
        ("mine", store.workspace_id),
        ("theirs", other),
    ]


def test_an_anonymous_visitor_who_signs_in_keeps_their_history(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    post(
        client,
        key,
        "/v1/page",
        {"anonymousId": "browser-7", "name": "Pricing", "properties": {"url": "/pricing"}},
    )
    post(
        client,
        key,
        "/v1/identify",
        {"anonymousId": "browser-7", "userId": "u42", "traits": {"email": "u42@example.com"}},
    )
    post(client, key, "/v1/track", {"userId": "u42", "event": "signed_up"})
    people = rows(store, "SELECT id, external_id, anonymous_id, email FROM contacts")
    assert [(p.external_id, p.anonymous_id, p.email) for p in people] == [
        ("u42", "browser-7", "u42@example.com")
    ]
    names = rows(store, "SELECT name FROM events WHERE contact_id = :c ORDER BY id", c=people[0].id)
    assert [n.name for n in names] == ["page_viewed", "$identify", "signed_up"]


def test_the_openapi_document_describes_ingestion(api: tuple[TestClient, str]) -> None:
    client, _ = api
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/batch"} <= set(
        paths
    )


def test_identify_traits_are_cleaned_and_a_bad_email_rejects_only_its_call(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    batch = [
        {
            "type": "identify",
            "userId": "ann",
            "messageId": "a",
            "traits": {
                "email": "  Ann.Smith@Example.COM ",
                "timezone": "europe/paris",
                "phone": "+44 20 7946 0958",
                "first_name": "  Ann ",
            },
        },
        {"type": "identify", "userId": "bob", "messageId": "b", "traits": {"email": "bob@@x"}},
        {"type": "identify", "userId": "cid", "messageId": "c", "traits": {"timezone": "Mars"}},
        {"type": "identify", "userId": "ann", "messageId": "d", "traits": {"email": ""}},
    ]
    body = post(client, key, "/v1/batch", {"batch": batch}).json()
    assert body["accepted"] == 2
    assert [(r["index"], r["errors"][0]["path"]) for r in body["rejected"]] == [
        (1, "batch[1].traits.email"),
        (2, "batch[2].traits.timezone"),
    ]
    assert "'bob@@x' is not an email address" in body["rejected"][0]["errors"][0]["message"]
    [ann] = rows(store, "SELECT email, phone, timezone, attributes FROM contacts")
    assert (ann.email, ann.phone, ann.timezone) == (
        "ann.smith@example.com",  # the blank email of the second call erased nothing
        "+442079460958",
        "Europe/Paris",
    )
    assert stored_json(ann.attributes)["first_name"] == "Ann"
