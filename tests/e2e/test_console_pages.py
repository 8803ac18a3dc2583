"""The console's watching-and-acting pages end to end: real `tidings serve` (SQLite and
PostgreSQL), real headless Chromium, three people with three roles.

A lead asks for a demo through /v1/track with hostile traits and a hostile event; the
hand-off workflow pauses for approval. The approver reads the approval (the contact, the
workflow, the rendered message, the deadline) and approves it with a comment; the owner
finds the contact, reads why each step happened (and why not), sees the hostile values as
text, erases another contact after confirming, opens every report page, and creates a form
(a bad definition refused with its field path; hostile wording shown as text; its link,
snippet and figures); the viewer reads the form but cannot save it, and cannot erase (the
server refuses). Screenshots land in tests/e2e/screenshots/pages-<db>/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.e2e import test_console
from tests.e2e.console_setup import (
    CHROMIUM,
    EMAIL,
    PASSWORD,
    ROOT,
    UI,
    prepare,
    run_node,
    serving,
    tidings,
)
from tidings.api.console import console_files

pytestmark = pytest.mark.e2e

database = test_console.database  # the fixture: a fresh SQLite file or PostgreSQL database

HOSTILE = "<img src=x onerror=alert(1)>"
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
APPROVER = "approver@shop.example"
VIEWER = "viewer@shop.example"

HANDOFF = """\
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


def _people(database: str, cwd: Path) -> None:
    for email, role in ((APPROVER, "approver"), (VIEWER, "viewer")):
        tidings(database, "users", "add", email, "--role", role, "--password-stdin",
                stdin=PASSWORD + "\n", cwd=cwd)  # fmt: skip


def _events(base: str) -> None:
    """The owner makes a write key with the API; a site sends what its visitors did."""
    with httpx.Client(base_url=base) as owner:
        session = owner.post("/api/session", json={"email": EMAIL, "password": PASSWORD})
        assert session.status_code == 200, session.text
        csrf = {"X-CSRF-Token": session.json()["csrf_token"]}
        made = owner.post("/api/keys", json={"kind": "write"}, headers=csrf)
        assert made.status_code == 201, made.text
        key = made.json()["key"]
    traits = {
        "email": "ana@example.com",
        "first_name": "Ana",
        "nickname": HOSTILE,
        "consent": {"email": "subscribed", "topic:news": "unsubscribed"},
    }
    batch = [
        {"type": "track", "userId": "ana", "event": "demo_requested",
         "properties": {"product": "Pro plan"}, "context": {"traits": traits}},
        {"type": "track", "userId": "ana", "event": HOSTILE, "properties": {"note": HOSTILE}},
        {"type": "track", "userId": "bo", "event": "cart_viewed",
         "context": {"traits": {"email": "bo@example.com"}}},
    ]  # fmt: skip
    sent = httpx.post(f"{base}/v1/batch", json={"batch": batch}, auth=(key, ""))
    assert sent.status_code == 200, sent.text


def test_approve_read_why_report_and_refuse_a_viewer(database: str, tmp_path: Path) -> None:
    assert (console_files() / "index.html").is_file(), "build the console first: make console"
    assert (UI / "node_modules" / "playwright-core").is_dir(), "install ui/: make console"
    assert Path(CHROMIUM).is_file(), "install Chromium: apt-get install -y chromium"
    handoff = tmp_path / "handoff.yaml"
    handoff.write_text(HANDOFF)
    prepare(database, [ROOT / "examples" / "workflows" / "cart_recovery.yaml", handoff], tmp_path)
    _people(database, tmp_path)
    shots = SHOTS / f"pages-{database.split(':', 1)[0]}"
    shutil.rmtree(shots, ignore_errors=True)
    with serving(database, tmp_path) as base:
        _events(base)
        run = run_node(
            "pages.e2e.mjs",
            {
                "CONSOLE_URL": base,
                "CONSOLE_EMAIL": EMAIL,
                "CONSOLE_APPROVER": APPROVER,
                "CONSOLE_VIEWER": VIEWER,
                "CONSOLE_PASSWORD": PASSWORD,
                "CONSOLE_HOSTILE_NAME": HOSTILE,
                "CONSOLE_SCREENSHOTS": str(shots),
            },
        )
    assert run.returncode == 0, (
        f"{run.stdout}\n{run.stderr}\nserver log:\n" + (tmp_path / "serve.log").read_text()[-3000:]
    )
    assert "ok - no console errors or CSP violations" in run.stdout
    assert "ok - the server refuses a viewer's erasure" in run.stdout
    assert "ok - the workflows list shows the hand-off's entry in the last 30 days" in run.stdout
    assert "ok - an owner creates a form in the console" in run.stdout
    assert "ok - hostile values make no element on the form's page" in run.stdout
    assert "ok - a viewer reads a form's definition but cannot save it" in run.stdout
