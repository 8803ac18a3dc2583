"""Calls from web pages: CORS per workspace origin, public keys' limits, first touch and the
settings document analytics.js loads, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.integration.conftest import Store
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key

SHOP = "http://shop.example:3000"
EVIL = "https://evil.example"


@dataclass
class Site:
    client: TestClient
    public: str
    write: str
    secret: str
    store: Store


@pytest.fixture
def site(store: Store) -> Iterator[Site]:
    now = store.clock.now()
    with store.engine.begin() as conn:
        keys = {k: create_key(conn, store.workspace_id, k, now) for k in KeyKind}
    app = create_app(
        store.engine,
        clock=store.clock,
        catalog=store.catalog,
        public_url="https://tidings.shop.example",
        # Per day, so that no window can turn over while a test runs.
        browser_address_rate="5/day",
        browser_key_rate="8/day",
    )
    with TestClient(app) as client:
        answer = client.put(
            "/api/settings",
            json={"allowed_origins": [SHOP + "/"]},
            headers={"Authorization": f"Bearer {keys[KeyKind.SECRET]}"},
        )
        assert answer.status_code == 200, answer.text
        yield Site(client, keys[KeyKind.PUBLIC], keys[KeyKind.WRITE], keys[KeyKind.SECRET], store)


def _basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def _events(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.execute(text("SELECT name FROM events ORDER BY id")).scalars())


def test_allowed_origins_are_stored_as_browsers_send_them(site: Site) -> None:
    answer = site.client.get("/api/settings", headers={"Authorization": f"Bearer {site.secret}"})
    assert answer.json()["allowed_origins"] == [SHOP]


def test_a_bad_origin_setting_is_refused_naming_the_field(site: Site) -> None:
    answer = site.client.put(
        "/api/settings",
        json={"allowed_origins": ["shop.example/path"]},
        headers={"Authorization": f"Bearer {site.secret}"},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["path"].startswith("body.allowed_origins")
    assert "https://shop.example" in answer.json()["errors"][0]["message"]


def test_a_preflight_from_an_allowed_origin_is_answered(site: Site) -> None:
    answer = site.client.options(
        "/v1/t",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == SHOP
    assert "Authorization" in answer.headers["access-control-allow-headers"]


def test_a_preflight_from_another_origin_gets_no_cors_headers(site: Site) -> None:
    answer = site.client.options(
        "/v1/t", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )
    assert answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers


def test_a_text_plain_call_from_the_allowed_origin_is_stored_with_cors_headers(
    site: Site,
) -> None:
    # analytics.js sends JSON as text/plain, with the key in the body, to skip a preflight.
    body = f'{{"writeKey": "{site.public}", "anonymousId": "a1", "event": "Viewed"}}'
    answer = site.client.post(
        "/v1/t", content=body, headers={"Origin": SHOP, "Content-Type": "text/plain"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == SHOP
    assert _events(site.store) == ["Viewed"]


def test_a_call_from_another_origin_is_refused_and_stores_nothing(site: Site) -> None:
    answer = site.client.post(
        "/v1/track",
        json={"anonymousId": "a1", "event": "Viewed"},
        headers={"Origin": EVIL, **_basic(site.public)},
    )
    assert answer.status_code == 403
    assert "allowed_origins" in answer.json()["detail"]
    assert "access-control-allow-origin" not in answer.headers
    assert _events(site.store) == []


@pytest.mark.parametrize("kind", [KeyKind.WRITE, KeyKind.SECRET])
def test_a_server_key_in_a_web_page_is_refused(site: Site, kind: KeyKind) -> None:
    key = site.write if kind is KeyKind.WRITE else site.secret
    answer = site.client.post(
        "/v1/track",
        json={"anonymousId": "a1", "event": "Viewed"},
        headers={"Origin": SHOP, **_basic(key)},
    )
    assert answer.status_code == 403
    assert "public key" in answer.json()["detail"]
    assert _events(site.store) == []


def test_a_public_key_cannot_read_the_admin_api(site: Site) -> None:
    for path in ("/api/contacts", "/api/workflows", "/api/settings"):
        answer = site.client.get(path, headers={"Authorization": f"Bearer {site.public}"})
        assert answer.status_code == 401, path


@pytest.mark.parametrize(
    ("traits", "path"),
    [
        ({"score": 100}, "traits.score"),  # a lead score from the page
        ({"tags": ["vip"]}, "traits.tags"),  # tags
        ({"suppressed": False}, "traits.suppressed"),  # lifting a suppression
        ({"consent": {"email": "subscribed"}}, "traits.consent.email"),  # consent, unproven
    ],
)
def test_privileged_traits_from_a_public_key_are_refused(
    site: Site, traits: dict[str, object], path: str
) -> None:
    answer = site.client.post(
        "/v1/identify",
        json={"userId": "u1", "traits": traits},
        headers={"Origin": SHOP, **_basic(site.public)},
    )
    assert answer.status_code == 400
    assert [e["path"] for e in answer.json()["errors"]] == [path]
    assert _events(site.store) == []


def test_a_public_key_may_withdraw_consent_and_a_write_key_may_grant_it(site: Site) -> None:
    withdraw = {"userId": "u1", "traits": {"consent": {"email": "unsubscribed"}}}
    assert site.client.post("/v1/identify", json=withdraw, headers=_basic(site.public)).is_success
    grant = {"userId": "u2", "traits": {"consent": {"email": "subscribed"}, "tags": ["x"]}}
    assert site.client.post("/v1/identify", json=grant, headers=_basic(site.write)).is_success


def test_a_batch_from_a_public_key_rejects_only_the_privileged_call(site: Site) -> None:
    batch = [
        {"type": "track", "anonymousId": "a1", "event": "Viewed"},
        {"type": "identify", "anonymousId": "a1", "traits": {"score": 5}},
    ]
    answer = site.client.post(
        "/v1/b", json={"batch": batch, "writeKey": site.public}, headers={"Origin": SHOP}
    )
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 1
    assert answer.json()["rejected"][0]["errors"][0]["path"] == "batch[1].traits.score"


def test_public_key_calls_are_limited_per_address_with_retry_after(site: Site) -> None:
    call = {"anonymousId": "a1", "event": "Viewed"}
    codes = [
        site.client.post("/v1/t", json=call, headers={"Origin": SHOP, **_basic(site.public)})
        for _ in range(6)
    ]
    assert [c.status_code for c in codes] == [200] * 5 + [429]
    assert int(codes[-1].headers["retry-after"]) >= 1
    # The page can read the answer, and so waits before retrying.
    assert codes[-1].headers["access-control-allow-origin"] == SHOP
    assert len(_events(site.store)) == 5
    # A server's write key is not limited by the browsers' counts.
    assert site.client.post("/v1/track", json=call, headers=_basic(site.write)).is_success
    # Another address may call, until the key's own limit is reached.
    other = TestClient(site.client.app, client=("198.51.100.8", 40000))
    more = [
        other.post("/v1/t", json=call, headers={"Origin": SHOP, **_basic(site.public)})
        for _ in range(4)
    ]
    assert [c.status_code for c in more] == [200, 200, 200, 429]
    assert "one key" in more[-1].json()["detail"]


def test_first_touch_is_kept_and_never_overwritten(site: Site) -> None:
    first = {
        "anonymousId": "a1",
        "context": {
            "page": {"url": f"{SHOP}/?utm_source=news", "referrer": "https://search.example/"},
            "campaign": {"source": "news", "medium": "email", "name": "spring"},
        },
    }
    later = {
        "anonymousId": "a1",
        "userId": "u1",
        "traits": {"first_name": "Ann"},
        "context": {
            "page": {"url": f"{SHOP}/pricing", "referrer": ""},
            "campaign": {"source": "ads"},
        },
    }
    for path, call in (("/v1/p", first), ("/v1/i", later)):
        answer = site.client.post(path, json=call, headers={"Origin": SHOP, **_basic(site.public)})
        assert answer.status_code == 200, answer.text
    with site.store.engine.connect() as conn:
        attributes = conn.execute(text("SELECT attributes FROM contacts")).scalar_one()
    if isinstance(attributes, str):
        import json

        attributes = json.loads(attributes)
    assert attributes == {
        "first_name": "Ann",
        "first_landing_page": f"{SHOP}/?utm_source=news",
        "first_referrer": "https://search.example/",
        "first_utm_source": "news",
        "first_utm_medium": "email",
        "first_utm_campaign": "spring",
        "source": "news",  # what the report's value per source reads
    }


def test_the_settings_document_points_analytics_js_at_tidings(site: Site) -> None:
    answer = site.client.get(f"/v1/projects/{site.public}/settings", headers={"Origin": SHOP})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == SHOP
    segment = answer.json()["integrations"]["Segment.io"]
    assert (segment["apiHost"], segment["protocol"]) == ("tidings.shop.example/v1", "https")
    assert answer.json()["metrics"]["sampleRate"] == 0


@pytest.mark.parametrize(("which", "status"), [("write", 403), ("unknown", 401)])
def test_the_settings_document_needs_a_public_key(site: Site, which: str, status: int) -> None:
    key = site.write if which == "write" else "tdp_nothing"
    assert site.client.get(f"/v1/projects/{key}/settings").status_code == status


def test_a_public_key_cannot_merge_profiles_with_alias(site: Site) -> None:
    call = {"previousId": "someone-else", "userId": "me"}
    answer = site.client.post("/v1/a", json=call, headers={"Origin": SHOP, **_basic(site.public)})
    assert answer.status_code == 400
    assert "alias" in answer.json()["errors"][0]["message"]


def test_an_owner_makes_a_public_key_with_the_admin_api(site: Site) -> None:
    made = site.client.post(
        "/api/keys", json={"kind": "public"}, headers={"Authorization": f"Bearer {site.secret}"}
    )
    assert made.status_code == 201 and made.json()["key"].startswith("tdp_")
    call = {"anonymousId": "a1", "event": "Viewed"}
    answer = site.client.post(
        "/v1/t", json=call, headers={"Origin": SHOP, **_basic(made.json()["key"])}
    )
    assert answer.status_code == 200
