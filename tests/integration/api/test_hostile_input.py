"""Hostile JSON at the door: refused with its path, never a 5xx, never sinking neighbours.

Each form below once got a 500, or was stored and then broke every later read (contact
pages, exports, segments, reports). Both databases must refuse them the same way.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Store
from tests.integration.journeys import rows, stored_json
from tidings.api.app import create_app
from tidings.runtime.imports import import_contacts
from tidings.storage.api_keys import KeyKind, create_key

#: (raw JSON text of a call, the path of its bad part): each is one hostile form.
HOSTILE = [
    # Non-finite numbers, which json.loads accepts.
    ('{"event": "e", "properties": {"total": NaN}}', "properties.total"),
    ('{"event": "e", "properties": {"total": Infinity}}', "properties.total"),
    ('{"event": "e", "properties": {"total": -Infinity}}', "properties.total"),
    ('{"event": "e", "properties": {"total": 1e400}}', "properties.total"),
    ('{"event": "e", "properties": {"items": [1, -1e999]}}', "properties.items[1]"),
    ('{"event": "e", "traits": {"age": NaN}}', "traits.age"),
    ('{"event": "e", "context": {"traits": {"score": Infinity}}}', "context.traits.score"),
    # Integers no double holds: SQLite's JSON gives them back changed.
    ('{"event": "e", "properties": {"total": 9007199254740993}}', "properties.total"),
    ('{"event": "e", "properties": {"n": -123456789012345678901234567890}}', "properties.n"),
    # Doubles past 2**53: PostgreSQL's JSON gives 1e20 back as an integer.
    ('{"event": "e", "properties": {"n": 1e20}}', "properties.n"),
    # Lone surrogates, as escapes and as CESU-8 bytes.
    ('{"event": "e", "properties": {"note": "a\\ud800b"}}', "properties.note"),
    ('{"event": "e", "properties": {"note": "\\udfff"}}', "properties.note"),
    ('{"event": "e\\ud800"}', "event"),
    ('{"event": "e", "traits": {"email": "a\\udc00@example.com"}}', "traits.email"),
    ('{"event": "e", "traits": {"first_name": "\\ud83d"}}', "traits.first_name"),
    ('{"event": "e", "messageId": "m\\ud800"}', "messageId"),
    ('{"event": "e", "properties": {"\\ud800": 1}}', "properties.'\\ud800'"),
    ('{"event": "e", "properties": {"note": "\ud800"}}', "properties.note"),  # CESU-8
    # NUL, which no column stores.
    ('{"event": "e", "properties": {"note": "a\\u0000"}}', "properties.note"),
    ('{"event": "e", "properties": {"a\\u0000": 1}}', "properties.'a\\x00'"),
    # Nesting of hundreds of levels.
    ('{"event": "e", "properties": {"deep": ' + "[" * 400 + "]" * 400 + "}}", "properties.deep"),
    ('{"event": "e", "properties": ' + '{"a": ' * 300 + "1" + "}" * 300 + "}", "properties.a"),
]  # fmt: skip


@pytest.fixture
def api(store: Store) -> Iterator[tuple[TestClient, str]]:
    with store.engine.begin() as conn:
        key = create_key(conn, store.workspace_id, KeyKind.WRITE, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app, follow_redirects=False) as client:
        yield client, key


def _call(text: str, user: str) -> str:
    # Spliced as text: json.dumps cannot write NaN-free, surrogate-bearing bodies as sent.
    return '{"type": "track", "userId": "' + user + '", ' + text.lstrip("{")


def _stored_events(store: Store) -> list[str]:
    return [r.name for r in rows(store, "SELECT name FROM events ORDER BY id")]


@pytest.mark.parametrize(("text", "path"), HOSTILE)
def test_a_hostile_call_in_a_batch_is_rejected_alone_with_its_path(
    store: Store, api: tuple[TestClient, str], text: str, path: str
) -> None:
    client, key = api
    # Given a batch with the hostile call between two good ones
    body = (
        '{"batch": ['
        '{"type": "track", "userId": "u1", "event": "before"}, '
        + _call(text, "u2")
        + ', {"type": "track", "userId": "u3", "event": "after"}]}'
    )
    # When it is posted
    response = client.post(
        "/v1/batch", content=body.encode("utf-8", "surrogatepass"), auth=(key, "")
    )
    # Then the bad call alone is rejected, with the path of its bad part
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["accepted"] == 2
    [rejected] = answer["rejected"]
    assert rejected["index"] == 1
    assert rejected["errors"][0]["path"].startswith(f"batch[1].{path}")
    # and its neighbours are stored
    assert _stored_events(store) == ["before", "after"]


@pytest.mark.parametrize(("text", "path"), HOSTILE)
def test_a_hostile_single_call_is_a_400_naming_the_path(
    store: Store, api: tuple[TestClient, str], text: str, path: str
) -> None:
    client, key = api
    body = _call(text, "u2").encode("utf-8", "surrogatepass")
    response = client.post("/v1/track", content=body, auth=(key, ""))
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["path"].startswith(path)
    assert _stored_events(store) == []


def test_a_body_nested_past_the_json_reader_is_a_400(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    deep = '{"batch": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    response = client.post("/v1/batch", content=deep, auth=(key, ""))
    assert response.status_code == 400
    assert response.json()["title"] == "Malformed JSON"


def test_numbers_within_a_double_are_stored_and_read_back_exactly(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    properties: dict[str, Any] = {"max": 2**53, "min": -(2**53), "big": 9.0e15, "tiny": 5e-324}
    call = {"type": "track", "userId": "u1", "event": "e", "properties": properties}
    assert client.post("/v1/batch", json={"batch": [call]}, auth=(key, "")).json()["accepted"] == 1
    [row] = rows(store, "SELECT properties FROM events")
    stored = row.properties if isinstance(row.properties, dict) else json.loads(row.properties)
    assert stored == properties


def _refuse_poison_events(store: Store) -> None:
    """Make the database itself refuse one event, as an unforeseen storage error would."""
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.name = 'poison' "
                "BEGIN SELECT RAISE(ABORT, 'poison event'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.name = 'poison' THEN RAISE EXCEPTION 'poison event'; END IF; "
                "RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()"
            )


def test_a_call_that_fails_to_store_is_rejected_and_the_rest_are_stored(
    store: Store, api: tuple[TestClient, str]
) -> None:
    client, key = api
    # Given a database that refuses one event of the batch
    _refuse_poison_events(store)
    batch = [
        {"type": "track", "userId": "u1", "event": "before", "messageId": "m1"},
        {"type": "track", "userId": "u2", "event": "poison", "messageId": "m2"},
        {"type": "track", "userId": "u3", "event": "after", "messageId": "m3"},
    ]
    # When the batch is posted
    response = client.post("/v1/batch", json={"batch": batch}, auth=(key, ""))
    # Then it is a 200 that rejects the one call, and the others are stored
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["accepted"] == 2
    assert [(r["index"], r["messageId"]) for r in answer["rejected"]] == [(1, "m2")]
    assert "could not be stored" in answer["rejected"][0]["errors"][0]["message"]
    assert _stored_events(store) == ["before", "after"]


def test_imported_cells_are_stored_as_they_can_be_read_back(store: Store) -> None:
    # Given a file with number-like cells no double holds, and a NUL read from the file
    text = (
        "user_id,email,total,ratio,code\n"
        "u1,a@example.com,1e400,nan,123456789012345678901234567890\n"
        "u2,b@example.com,12.5,Infinity,42\n"
        "u3,c@example.com,1,x\x00y,7\n"
    )
    # When it is imported
    report = import_contacts(store.engine, store.workspace_id, io.StringIO(text), store.clock.now())
    # Then numbers past a double stay text, the NUL row alone is rejected with its column
    assert [(r.row, r.reason) for r in report.rejected] == [
        (4, "column 'ratio': the cell contains a NUL character (\\u0000), which cannot be stored")
    ]
    stored = {
        r.external_id: stored_json(r.attributes)
        for r in rows(store, "SELECT external_id, attributes FROM contacts")
    }
    assert stored["u1"] == {
        "total": "1e400",
        "ratio": "nan",
        "code": "123456789012345678901234567890",
    }
    assert stored["u2"] == {"total": 12.5, "ratio": "Infinity", "code": 42}
    assert "u3" not in stored


@pytest.mark.parametrize("path", ["/v1/track", "/v1/batch"])
def test_a_write_key_that_is_not_ascii_is_refused_as_no_key(
    store: Store, api: tuple[TestClient, str], path: str
) -> None:
    client, _ = api
    body = b'{"writeKey": "\\ud800", "userId": "u1", "event": "e", "batch": []}'
    response = client.post(path, content=body)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("content_type", "document"),
    [
        ("application/json", "[" * 5000 + "]" * 5000),
        ("application/yaml", "[" * 5000 + "]" * 5000),
        ("application/yaml", "a: " + "[" * 5000),
    ],
)
def test_a_workflow_nested_past_the_readers_is_a_400(
    store: Store, content_type: str, document: str
) -> None:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            "/api/workflows",
            content=document,
            headers={"Authorization": f"Bearer {secret}", "content-type": content_type},
        )
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == "the document is nested too deeply"


#: (method, URL): a NUL (%00) in a path parameter or query value that routes compare with
#: stored text; each once answered 500 on PostgreSQL, the public form pages included.
NUL_URLS = [
    ("GET", "/f/default/%00"),
    ("POST", "/f/default/a%00b"),
    ("GET", "/f/a%00b/signup"),
    ("GET", "/f/default/signup%00/embed.js"),
    ("GET", "/api/forms/%00"),
    ("GET", "/api/forms/a%00/figures"),
    ("PATCH", "/api/people/a%00b@example.com"),
    ("DELETE", "/api/people/%00"),
    ("GET", "/api/audit?subject=%00"),
    ("GET", "/api/contacts?q=a%00b"),
    ("GET", "/api/contacts?a%00=1"),
]


@pytest.mark.parametrize(("method", "url"), NUL_URLS)
def test_a_nul_in_the_url_is_a_400_before_any_route(
    store: Store, api: tuple[TestClient, str], method: str, url: str
) -> None:
    client, _ = api
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    body = {"role": "viewer"} if method == "PATCH" else None
    response = client.request(method, url, json=body, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 400, response.text
    assert response.json()["title"] == "Bad URL"
    assert response.json()["errors"][0]["message"].startswith("contains a NUL character")


@pytest.mark.parametrize("field", ["email", "workspace"])
def test_a_login_naming_what_no_database_holds_is_a_400(
    api: tuple[TestClient, str], field: str
) -> None:
    client, _ = api
    credentials = {"email": "a@example.com", "password": "p", field: "a\u0000b"}
    response = client.post("/api/session", json=credentials)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["path"] == f"body.{field}"
