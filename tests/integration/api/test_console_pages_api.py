"""What the console's contacts and approvals pages ask of the admin API, on both databases:
contact search and segment filters, a profile's segments, and an approval's context (the
workflow, the contact, the message approving would send) with the decider's comment."""

from __future__ import annotations

from sqlalchemy import text

from tests.integration.api import test_admin_api
from tests.integration.api.test_admin_api import Api
from tests.integration.conftest import Store

api = test_admin_api.api  # the fixture: a client with a write key and a secret key

#: A hand-off whose message, sent once a person approves, greets the lead by name.
HANDOFF = """
id: handoff
name: Sales hand-off
trigger: {event: demo_requested}
templates:
  hi: {subject: "A rep will call, {{ contact.first_name }}", text: "About {{ event.product }}."}
steps:
  - {id: ask, type: approval, message: "Call {{ contact.email }}?", timeout: 2d, on_reject: done}
  - {id: hi, type: send, template: hi}
  - {id: done, type: exit, reason: handled}
"""


def _lead(api: Api, user: str, email: str, **traits: object) -> None:
    context = {"traits": {"email": email, "consent": {"email": "subscribed"}, **traits}}
    api.track(
        {"userId": user, "event": "demo_requested", "properties": {"product": "Pro plan"},
         "context": context}
    )  # fmt: skip


def test_an_approval_comes_with_its_workflow_contact_and_rendered_message(
    store: Store, api: Api
) -> None:
    assert api.admin("POST", "/api/workflows", content=HANDOFF).status_code == 201
    _lead(api, "ana", "ana@example.com", first_name="Ana")
    (request,) = api.admin("GET", "/api/approvals").json()
    context = request["context"]
    assert (context["workflow"], context["workflow_name"], context["version"]) == (
        "handoff",
        "Sales hand-off",
        1,
    )
    assert context["contact"] == {
        "id": request["contact_id"],
        "email": "ana@example.com",
        "user_id": "ana",
        "name": "Ana",
    }
    assert context["preview"] == {
        "step_id": "hi",
        "channel": "email",
        "template": "hi",
        "subject": "A rep will call, Ana",
        "text": "About Pro plan.",
        "problem": None,
    }


#: A follow-up that waits for a survey answer, then asks before sending a text quoting it.
SURVEYED = """
id: surveyed
name: Detractor follow-up
trigger: {event: demo_requested}
templates:
  sorry: {subject: "You gave us {{ steps.survey.event.score }}", text: "Sorry."}
steps:
  - {id: survey, type: wait, event: nps_submitted, timeout: 7d}
  - {id: ask, type: approval, message: "Follow up?", timeout: 2d, on_reject: done}
  - {id: sorry, type: send, template: sorry}
  - {id: done, type: exit, reason: handled}
"""


def test_the_approval_preview_reads_the_events_the_journey_waited_for(api: Api) -> None:
    assert api.admin("POST", "/api/workflows", content=SURVEYED).status_code == 201
    _lead(api, "ana", "ana@example.com")
    api.track({"userId": "ana", "event": "nps_submitted", "properties": {"score": 3}})
    (request,) = api.admin("GET", "/api/approvals").json()
    preview = request["context"]["preview"]
    assert (preview["subject"], preview["problem"]) == ("You gave us 3", None)


def test_the_deciders_comment_is_kept_in_the_contacts_story(store: Store, api: Api) -> None:
    api.admin("POST", "/api/workflows", content=HANDOFF)
    _lead(api, "ana", "ana@example.com")
    (request,) = api.admin("GET", "/api/approvals").json()
    decided = api.admin(
        "POST",
        f"/api/approvals/{request['id']}/reject",
        json={"by": "maria", "comment": "already a customer"},
    )
    assert decided.json()["status"] == "rejected"
    detail = api.admin("GET", f"/api/contacts/{request['contact_id']}").json()
    said = [s for s in detail["steps"] if s["action"] == "commented"]
    assert [(s["step_id"], s["detail"]) for s in said] == [("ask", "maria: already a customer")]
    with store.engine.connect() as conn:
        kept = conn.execute(text("SELECT comment FROM approvals")).scalar_one()
    assert kept == "already a customer"


def test_contacts_are_found_by_any_part_of_their_email_user_id_or_phone(api: Api) -> None:
    api.admin("POST", "/api/workflows", content=HANDOFF)
    _lead(api, "ana-01", "Ana.Lopez@example.com")
    _lead(api, "bo-02", "bo@shop.example")
    _lead(api, "percent", "100%_sure@example.com")

    def found(**params: str) -> list[str]:
        listed = api.admin("GET", "/api/contacts", params=params)
        assert listed.status_code == 200, listed.text
        return [c["user_id"] for c in listed.json()]

    assert found(q="ana.lopez") == ["ana-01"]  # any case
    assert found(q="example.com") == ["ana-01", "percent"]
    assert found(q="02") == ["bo-02"]
    assert found(q="%") == ["percent"]  # a wildcard typed is a character searched
    assert found(q="nobody") == []


def test_contacts_by_segment_and_a_profile_names_its_segments(api: Api) -> None:
    api.admin("POST", "/api/workflows", content=HANDOFF)
    _lead(api, "ana", "ana@example.com", plan="pro")
    _lead(api, "bo", "bo@example.com", plan="free")
    put = api.admin(
        "PUT", "/api/segments/pro", json={"name": "Pro", "condition": 'contact.plan == "pro"'}
    )
    assert put.status_code == 200, put.text
    (ana,) = api.admin("GET", "/api/contacts", params={"segment": "pro"}).json()
    assert ana["user_id"] == "ana"
    assert api.admin("GET", f"/api/contacts/{ana['id']}").json()["segments"] == ["pro"]
    (bo,) = api.admin("GET", "/api/contacts", params={"q": "bo@"}).json()
    assert api.admin("GET", f"/api/contacts/{bo['id']}").json()["segments"] == []
    assert api.admin("GET", "/api/contacts", params={"segment": "nope"}).json() == []
