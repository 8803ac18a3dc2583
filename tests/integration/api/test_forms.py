"""Forms end to end through the app: defined in the admin API, shown at /f/<workspace>/<form>,
submitted; spam refused with nothing stored; progressive profiling; consent proof; figures;
a workflow started by the submission. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from tests.integration.conftest import Store
from tidings.api.app import create_app
from tidings.storage.api_keys import KeyKind, create_key

SHOP = "https://shop.example"
HOSTILE = "<script>alert(1)</script>\"'&"
FORM: dict[str, Any] = {
    "key": "contact",
    "name": "Contact us",
    "fields": [
        {"key": "email", "label": "Email", "type": "email", "required": True},
        {"key": "first_name", "label": "First name", "required": True},
        {"key": "company", "label": "Company"},
        {"key": "team_size", "label": "Team size", "type": "select", "options": ["1-10", "11+"]},
        {"key": "message", "label": "Message", "type": "textarea", "max_length": 2000},
    ],
    "consents": [
        {
            "key": "news",
            "channel": "email",
            "wording": "Send me the monthly newsletter. I can leave at any time.",
        }
    ],
    "fields_per_visit": 2,
    "min_seconds": 3,
}
WORKFLOW = """
id: contact_followup
name: Contact follow-up
trigger: {type: form, form: contact}
entry: {when: 'trigger.team_size = "11+"'}
steps:
  - {id: bye, type: exit}
"""


@dataclass
class Site:
    client: TestClient
    store: Store
    admin: dict[str, str]

    def rows(self, sql: str) -> list[Any]:
        with self.store.engine.connect() as conn:
            return list(conn.execute(text(sql)))


@pytest.fixture
def site(store: Store) -> Iterator[Site]:
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    app = create_app(
        store.engine,
        clock=store.clock,
        catalog=store.catalog,
        public_url="https://tidings.shop.example",
        form_rate="100/day",
    )
    admin = {"Authorization": f"Bearer {secret}"}
    with TestClient(app, follow_redirects=False) as client:
        assert client.put(
            "/api/settings", json={"allowed_origins": [SHOP]}, headers=admin
        ).is_success
        answer = client.put("/api/forms/contact", json=FORM, headers=admin)
        assert answer.status_code == 200, answer.text
        yield Site(client, store, admin)


def _workspace(site: Site) -> str:
    return str(site.rows("SELECT key FROM workspaces")[0][0])


def _show(site: Site, query: str = "") -> Any:
    return site.client.get(f"/f/{_workspace(site)}/contact{query}")


def _token(page: Any) -> str:
    found = re.search(r'name=token value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _asked(page: Any) -> list[str]:
    return re.findall(r'<label for="f-([a-z_]+)"', page.text)


def _submit(site: Site, page: Any, **fields: str) -> Any:
    site.store.clock.advance(timedelta(seconds=5))  # a person takes a few seconds
    data = {"token": _token(page), "page": f"{SHOP}/pricing", "utm_source": "news", **fields}
    return site.client.post(f"/f/{_workspace(site)}/contact", data=data)


def _events(site: Site) -> list[tuple[str, dict[str, Any]]]:
    rows = site.rows("SELECT name, properties FROM events ORDER BY id")
    return [(r[0], r[1] if isinstance(r[1], dict) else json.loads(r[1])) for r in rows]


def test_the_admin_api_gives_the_url_and_embed_snippet(site: Site) -> None:
    answer = site.client.get("/api/forms/contact", headers=site.admin)
    url = f"https://tidings.shop.example/f/{_workspace(site)}/contact"
    assert answer.json()["url"] == url
    assert answer.json()["embed_html"].startswith(f'<script src="{url}/embed.js"')
    assert answer.json()["version"] == 1


def test_a_redirect_off_the_allowed_origins_is_refused(site: Site) -> None:
    answer = site.client.put(
        "/api/forms/contact",
        json={**FORM, "redirect": "https://evil.example/x"},
        headers=site.admin,
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "body.redirect"
    ok = {**FORM, "redirect": f"{SHOP}/thanks"}
    assert site.client.put("/api/forms/contact", json=ok, headers=site.admin).json()["version"] == 2


def test_the_hosted_page_is_accessible_and_locked_down(site: Site) -> None:
    page = _show(site, "?utm_source=news")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert f"frame-ancestors 'self' {SHOP}" in csp
    # Every field asked has a label tied to it; the honeypot is hidden from people.
    assert _asked(page) == ["email", "first_name", "company", "news"]
    assert "aria-hidden=true><label for=f-fax_number>" in page.text
    assert 'name="utm_source" value="news"' in page.text


def test_a_submission_identifies_records_consent_and_starts_the_workflow(site: Site) -> None:
    deployed = site.client.post("/api/workflows", content=WORKFLOW, headers=site.admin)
    assert deployed.status_code == 201, deployed.text
    answer = _submit(
        site, _show(site), email=" Ann@Shop.Example ", first_name="Ann", company="Acme", news="yes"
    )
    assert answer.status_code == 200, answer.text
    assert "Thank you!" in answer.text
    contact = site.rows("SELECT id, email, attributes, consent FROM contacts")
    assert len(contact) == 1 and contact[0].email == "ann@shop.example"
    consent = (
        contact[0].consent
        if isinstance(contact[0].consent, dict)
        else json.loads(contact[0].consent)
    )
    assert consent == {"email": "subscribed"}
    proof = site.rows("SELECT form_key, form_version, wording, page, status FROM form_consents")
    assert [tuple(p) for p in proof] == [
        ("contact", 1, FORM["consents"][0]["wording"], f"{SHOP}/pricing", "subscribed")
    ]
    name, properties = _events(site)[-1]
    assert name == "form_submitted"
    assert properties["form"] == "contact" and properties["company"] == "Acme"
    assert properties["source"] == "news" and properties["news"] is True


def test_a_submission_and_its_consent_proof_are_stored_together_or_not_at_all(
    site: Site,
) -> None:
    # The proof's table gone stands for a crash between the two writes: the submission must
    # not be kept (nor start journeys) without the proof of the consent it gave.
    page = _show(site)
    with site.store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE form_consents RENAME TO form_consents_away"))
    try:
        try:
            # SQLite's "no such table" is an OperationalError, answered 503 like an outage;
            # PostgreSQL's is raised through the test client.
            failed = _submit(site, page, email="a@shop.example", first_name="A", news="yes")
            assert failed.status_code >= 500, failed.text
        except ProgrammingError:
            pass
    finally:
        with site.store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE form_consents_away RENAME TO form_consents"))
    assert [name for name, _ in _events(site)] == []
    assert site.rows("SELECT id FROM contacts") == []


def test_the_workflow_validator_knows_the_forms_fields(site: Site) -> None:
    typo = WORKFLOW.replace("trigger.team_size", "trigger.team_sise")
    answer = site.client.post("/api/workflows", content=typo, headers=site.admin)
    assert answer.status_code == 422
    assert "team_size" in json.dumps(answer.json()["errors"])
    unknown = WORKFLOW.replace("form: contact", "form: contcat")
    answer = site.client.post("/api/workflows", content=unknown, headers=site.admin)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "trigger.form"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"fax_number": "555"}, "automated"),  # the honeypot, filled by a robot
        ({"token": "1.forged"}, "expired"),  # a made-up token
        ({"email": "not an address"}, "Email is not a valid email"),  # a bad answer
        ({"first_name": ""}, "First name is required"),  # a required field left empty
    ],
)
def test_a_refused_submission_says_why_and_stores_nothing(
    site: Site, change: dict[str, str], reason: str
) -> None:
    fields = {"email": "ann@shop.example", "first_name": "Ann", **change}
    answer = _submit(site, _show(site), **fields)
    assert answer.status_code == 400
    assert reason in answer.text
    assert site.rows("SELECT id FROM contacts") == []
    assert _events(site) == []


def test_errors_are_announced_and_tied_to_their_fields(site: Site) -> None:
    answer = _submit(site, _show(site), email="nope", first_name="")
    assert "role=alert" in answer.text
    assert (
        'id="f-email" name="email" required aria-required=true aria-describedby="e-email" aria-invalid=true'
        in answer.text
    )


def test_a_submission_faster_than_a_person_is_refused(site: Site) -> None:
    page = _show(site)
    data = {"token": _token(page), "email": "ann@shop.example", "first_name": "Ann"}
    answer = site.client.post(f"/f/{_workspace(site)}/contact", data=data)
    assert answer.status_code == 400 and "faster than a person" in answer.text
    assert _events(site) == []


def test_a_body_too_large_is_refused(site: Site) -> None:
    answer = _submit(site, _show(site), email="a@b.example", first_name="A", message="x" * 20_000)
    assert answer.status_code == 413
    assert _events(site) == []


def test_hostile_values_are_stored_as_text_and_shown_as_text(site: Site) -> None:
    # Given a first try with a bad email, the hostile values come back in the form, escaped
    again = _submit(site, _show(site), email="x", first_name=HOSTILE, company=HOSTILE)
    assert "<script>alert" not in again.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;" in again.text
    # When sent properly, they are stored exactly as typed
    done = _submit(site, again, email="ann@shop.example", first_name=HOSTILE, company=HOSTILE)
    assert done.status_code == 200
    attributes = site.rows("SELECT attributes FROM contacts")[0][0]
    attributes = attributes if isinstance(attributes, dict) else json.loads(attributes)
    assert attributes["first_name"] == HOSTILE.strip() and attributes["company"] == HOSTILE


def test_a_returning_visitor_is_asked_only_for_new_fields(site: Site) -> None:
    first = _show(site)
    assert _asked(first) == ["email", "first_name", "company", "news"]
    assert _submit(
        site, first, email="ann@shop.example", first_name="Ann", company="Acme"
    ).is_success
    # The signed cookie knows them: the next two fields they have not answered, and email.
    second = _show(site)
    assert _asked(second) == ["email", "team_size", "message", "news"]
    assert _submit(site, second, email="ann@shop.example", team_size="11+").is_success
    assert len(site.rows("SELECT id FROM contacts")) == 1
    # A forged cookie is a stranger.
    site.client.cookies.clear()
    site.client.cookies.set("tidings_visitor", "1.forged")
    assert _asked(_show(site)) == ["email", "first_name", "company", "news"]


def test_figures_count_views_starts_and_submissions_by_source(site: Site) -> None:
    news = _show(site, "?utm_source=news")
    _show(site, "?utm_source=ads")
    # The form's script sends the start from the form's page, whose address has the source.
    referer = f"http://testserver/f/{_workspace(site)}/contact?utm_source=news"
    site.client.post(
        f"/f/{_workspace(site)}/contact/start", content=_token(news), headers={"Referer": referer}
    )
    assert _submit(site, news, email="ann@shop.example", first_name="Ann").is_success
    figures = site.client.get("/api/forms/contact/figures?by=source", headers=site.admin).json()
    assert figures["total"] == {
        "page": None, "source": None, "views": 2, "starts": 1, "submissions": 1,
        "conversion_rate": 0.5,
    }  # fmt: skip
    by_source = {r["source"]: (r["views"], r["starts"], r["submissions"]) for r in figures["rows"]}
    assert by_source == {"ads": (1, 0, 0), "news": (1, 1, 1)}


def test_double_opt_in_keeps_email_consent_pending_and_sends_a_confirmation(site: Site) -> None:
    form = {**FORM, "double_opt_in": True}
    assert site.client.put("/api/forms/contact", json=form, headers=site.admin).is_success
    answer = _submit(site, _show(site), email="ann@shop.example", first_name="Ann", news="yes")
    assert answer.status_code == 200, answer.text
    consent = site.rows("SELECT consent FROM contacts")[0][0]
    consent = consent if isinstance(consent, dict) else json.loads(consent)
    assert consent == {"email": "pending"}
    assert [tuple(r) for r in site.rows("SELECT status, form_version FROM form_consents")] == [
        ("pending", 2)
    ]
    queued = site.rows("SELECT recipient, kind FROM messages")
    assert [tuple(r) for r in queued] == [("ann@shop.example", "transactional")]


def test_a_submission_past_the_address_limit_gets_429(store: Store) -> None:
    app = create_app(store.engine, clock=store.clock, catalog=store.catalog, form_rate="2/day")
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {secret}"}
        assert client.put("/api/forms/contact", json=FORM, headers=admin).is_success
        site = Site(client, store, admin)
        page = _show(site)  # one view
        assert _submit(site, page, email="a@b.example", first_name="A").status_code == 200
        refused = _submit(site, page, email="c@d.example", first_name="C")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert len(site.rows("SELECT id FROM contacts")) == 1
