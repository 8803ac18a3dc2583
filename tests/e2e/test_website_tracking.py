"""A website's own analytics library, sending to Tidings from a real browser.

A page on one loopback origin loads the real `@segment/analytics-next` (its UMD build,
from tests/e2e/node) with `cdnURL` pointed at `tidings serve` on another port, in real
headless Chromium: its settings, then page, track and identify, arrive from Tidings
alone, each stored once, with the visit's first touch on the profile. The same page on an
origin the workspace does not allow stores nothing. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.e2e import test_console
from tests.e2e.console_setup import CHROMIUM, ROOT, UI, serving, tidings
from tests.servers import smtp_server
from tidings.storage.engine import create_engine

database = test_console.database  # the fixture: a fresh SQLite file or PostgreSQL database

pytestmark = pytest.mark.e2e

NODE = ROOT / "tests" / "e2e" / "node"
ANALYTICS = NODE / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"

LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="/analytics/index.js"></script></head>
<body><h1>Pricing</h1>
<script>
const analytics = AnalyticsNext.AnalyticsBrowser.load({writeKey: KEY, cdnURL: TIDINGS})
;(async () => {
  try {
    const [a] = await analytics
    const out = []
    for (const call of [
      () => a.page(),
      () => a.track('Viewed Pricing', {plan: 'pro'}),
      () => a.identify('user-1', {email: 'Ann@Shop.Example', first_name: 'Ann'}),
    ]) {
      const ctx = await call()
      const failed = ctx.failedDelivery()
      out.push(failed ? 'failed: ' + failed.reason : 'delivered')
    }
    window.sent = out
  } catch (error) {
    window.sent = ['load failed: ' + error]
  }
})()
</script></body></html>
"""


@contextmanager
def website(root: Path) -> Iterator[str]:
    """A static web server for `root` on a free loopback port; yields its origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def site_files(root: Path, key: str, tidings_url: str) -> Path:
    """The website: its landing page, and analytics-next as the site would host it."""
    shutil.copytree(ANALYTICS, root / "analytics")
    page = LANDING.replace("KEY", json.dumps(key)).replace("TIDINGS", json.dumps(tidings_url))
    (root / "landing.html").write_text(page)
    return root


def keys_from_init(output: str) -> dict[str, str]:
    return {m[0][:3]: m[0] for m in re.finditer(r"td[swp]_[A-Za-z0-9_\-]+", output)}


def stored(database: str) -> tuple[list[tuple[str, str | None]], dict[str, Any]]:
    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            events = conn.execute(
                text(
                    "SELECT e.name, c.external_id FROM events e "
                    "JOIN contacts c ON c.id = e.contact_id ORDER BY e.id"
                )
            ).all()
            attributes = conn.execute(
                text("SELECT attributes FROM contacts WHERE external_id = 'user-1'")
            ).scalar()
    finally:
        engine.dispose()
    if isinstance(attributes, str):
        attributes = json.loads(attributes)
    return [(e[0], e[1]) for e in events], attributes or {}


def test_analytics_next_in_chromium_sends_to_tidings_from_allowed_origins_only(
    database: str, tmp_path: Path
) -> None:
    assert (UI / "node_modules" / "playwright-core").is_dir(), "install ui/: make console"
    assert ANALYTICS.is_dir(), "install tests/e2e/node: make test (npm install there)"
    assert Path(CHROMIUM).is_file(), "install Chromium: apt-get install -y chromium"
    keys = keys_from_init(tidings(database, "init", cwd=tmp_path))
    with serving(database, tmp_path) as base:
        site = site_files(tmp_path / "site", keys["tdp"], base)
        with website(site) as allowed, website(site) as refused:
            # Given a workspace that allows the first website's origin only
            answer = httpx.put(
                f"{base}/api/settings",
                json={"allowed_origins": [allowed]},
                headers={"Authorization": f"Bearer {keys['tds']}"},
            )
            assert answer.status_code == 200, answer.text
            # When a visitor opens the landing page on each website
            run = subprocess.run(
                ["node", str(NODE / "website.e2e.mjs")],
                env={
                    **os.environ,
                    "CHROMIUM": CHROMIUM,
                    "UI_DIR": str(UI),
                    "SITE_URL": allowed,
                    "OTHER_URL": refused,
                    "TIDINGS_URL": base,
                },
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert run.returncode == 0, run.stdout + run.stderr
            seen = json.loads(run.stdout.strip().splitlines()[-1])
            # Then the allowed page's three calls arrive, each once
            assert seen["allowed"]["outcome"] == ["delivered"] * 3, seen
            deadline = time.monotonic() + 20
            while len(stored(database)[0]) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
    events, attributes = stored(database)
    assert sorted(events) == sorted(
        [("page_viewed", "user-1"), ("Viewed Pricing", "user-1"), ("$identify", "user-1")]
    ), (events, seen)
    # The library fetched its settings from Tidings, and no third party was called.
    assert f"GET /v1/projects/{keys['tdp']}/settings" in seen["allowed"]["requests"]
    assert seen["allowed"]["thirdParty"] == [] and seen["refused"]["thirdParty"] == [], seen
    # The first visit's source is on the profile.
    landing = f"{allowed}/landing.html?utm_source=news&utm_medium=email&utm_campaign=spring"
    assert attributes["first_landing_page"] == landing
    assert (attributes["first_utm_source"], attributes["first_utm_campaign"]) == (
        "news",
        "spring",
    )
    # The page on the origin not allowed asked for its settings, was refused, sent nothing.
    assert seen["refused"]["requests"][:1] == [f"GET /v1/projects/{keys['tdp']}/settings"]
    assert seen["refused"]["outcome"][0].startswith("load failed"), seen["refused"]


CONTACT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Contact</title>
<script src="/analytics/index.js"></script></head>
<body><h1>Contact</h1><div id="form"></div>
<script>
const analytics = AnalyticsNext.AnalyticsBrowser.load({writeKey: KEY, cdnURL: TIDINGS})
// The embed goes in once analytics.js knows the visitor, so the form knows them too.
analytics.page().then(() => {
  const script = document.createElement('script')
  script.src = EMBED
  script.setAttribute('data-title', 'Contact us')
  document.getElementById('form').appendChild(script)
})
</script></body></html>
"""
PRICING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pricing</title>
<script src="/analytics/index.js"></script></head><body><h1>Pricing</h1>
<script>
AnalyticsNext.AnalyticsBrowser.load({writeKey: KEY, cdnURL: TIDINGS}).page()
  .then(() => { window.sent = true })
</script></body></html>
"""
FORM = {
    "key": "contact",
    "name": "Contact us",
    "fields": [
        {"key": "email", "label": "Email", "type": "email", "required": True},
        {"key": "first_name", "label": "First name", "required": True},
        {"key": "company", "label": "Company"},
    ],
    "consents": [{"key": "news", "channel": "email", "wording": "Send me the monthly newsletter."}],
    "thank_you": "Thanks, we will be in touch.",
    "fields_per_visit": 1,
    # A browser driven by a script is as fast as a robot: the guard is tested elsewhere.
    "min_seconds": 0,
}
FOLLOW_UP = """
id: contact_followup
name: Contact follow-up
trigger: {type: form, form: contact}
templates:
  thanks: {subject: "Thanks for writing", html: "<p>Hello {{ contact.first_name }}</p>"}
steps:
  - {id: thanks, type: send, template: thanks}
"""
HOSTILE = "<img src=x onerror=alert(1)>\"'&"


def test_a_visitor_browses_and_submits_an_embedded_form_on_two_visits(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (UI / "node_modules" / "playwright-core").is_dir(), "install ui/: make console"
    assert ANALYTICS.is_dir(), "install tests/e2e/node: make test (npm install there)"
    keys = keys_from_init(tidings(database, "init", cwd=tmp_path))
    with smtp_server() as (sink, smtp_port):
        monkeypatch.setenv("TIDINGS_SMTP_URL", f"smtp://127.0.0.1:{smtp_port}")
        with serving(database, tmp_path) as base:
            site = site_files(tmp_path / "site", keys["tdp"], base)
            with website(site) as origin:
                admin = httpx.Client(
                    base_url=base, headers={"Authorization": f"Bearer {keys['tds']}"}
                )
                # Given a workspace that allows the site, its form, and a workflow on it
                assert admin.put("/api/settings", json={"allowed_origins": [origin]}).is_success
                form = admin.put("/api/forms/contact", json=FORM)
                assert form.status_code == 200, form.text
                deployed = admin.post("/api/workflows", content=FOLLOW_UP)
                assert deployed.status_code == 201, deployed.text
                page = (
                    CONTACT.replace("KEY", json.dumps(keys["tdp"]))
                    .replace("TIDINGS", json.dumps(base))
                    .replace("EMBED", json.dumps(form.json()["url"] + "/embed.js"))
                )
                (site / "contact.html").write_text(page)
                pricing = PRICING.replace("KEY", json.dumps(keys["tdp"]))
                (site / "pricing.html").write_text(pricing.replace("TIDINGS", json.dumps(base)))
                # When a visitor browses, then fills the form on two visits
                run = subprocess.run(
                    ["node", str(NODE / "forms.e2e.mjs")],
                    env={
                        **os.environ,
                        "CHROMIUM": CHROMIUM,
                        "UI_DIR": str(UI),
                        "SITE_URL": origin,
                        "HOSTILE": HOSTILE,
                        "EMAIL": "ann@shop.example",
                    },
                    capture_output=True,
                    text=True,
                    timeout=150,
                )
                assert run.returncode == 0, run.stdout + run.stderr
                seen = json.loads(run.stdout.strip().splitlines()[-1])
                # Then the workflow the first submission started sends its email
                deadline = time.monotonic() + 30
                while not sink.received and time.monotonic() < deadline:
                    time.sleep(0.1)
                figures = admin.get("/api/forms/contact/figures", params={"by": "page"}).json()
                admin.close()
    first, second = seen["visits"]
    # The first visit asks for the email and the first field; the second only what is new.
    assert first["asked"] == ["f-email", "f-first_name", "f-news"], seen
    assert second["asked"] == ["f-email", "f-company"], seen
    # The mistake is announced, tied to its field, and the hostile text stays text.
    assert "Email is not a valid email" in first["alert"]
    assert first["emailInvalid"] == "true"
    assert first["keptFirstName"] == HOSTILE
    assert seen["dialogs"] == [] and seen["errors"] == [] and seen["csp"] == [], seen
    assert [m.message["To"] for m in sink.received] == ["ann@shop.example"]
    part = sink.received[0].message.get_body(("html",))
    assert part is not None
    html = part.get_content()
    assert "<img src=x" not in html and "&lt;img src=x" in html
    # One profile: the page views, both submissions and the identify are the same person's.
    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            people = conn.execute(text("SELECT id, email, attributes FROM contacts")).all()
            names = conn.execute(text("SELECT name FROM events ORDER BY id")).scalars().all()
            proofs = conn.execute(text("SELECT wording, page FROM form_consents")).all()
    finally:
        engine.dispose()
    assert len(people) == 1, people
    attributes = people[0].attributes
    attributes = attributes if isinstance(attributes, dict) else json.loads(attributes)
    assert (attributes["first_name"], attributes["company"]) == (HOSTILE, HOSTILE)
    assert attributes["first_utm_source"] == "news"
    assert names.count("form_submitted") == 2 and names.count("page_viewed") == 3, names
    assert [tuple(p) for p in proofs] == [
        ("Send me the monthly newsletter.", f"{origin}/contact.html")
    ]
    # Two views, each started (typed in) and submitted, all on the contact page.
    total = figures["total"]
    assert (total["views"], total["starts"], total["submissions"]) == (2, 2, 2), figures
    assert [r["page"] for r in figures["rows"]] == [f"{origin}/contact.html"], figures
