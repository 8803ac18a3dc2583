"""The builder's template preview and test send end to end: real `tidings serve` mailing
through a loopback SMTP server, real headless Chromium.

An editor opens a send step, picks a real contact (whose name is hostile markup), types a
sample event and a new subject, and sees the server's render follow, at desktop and mobile
widths; then sends a test, which arrives marked "[Test]" and is counted in no figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.e2e.console_setup import CHROMIUM, EMAIL, PASSWORD, ROOT, prepare, run_node, serving
from tests.e2e.console_setup import tidings as run_tidings
from tests.servers import smtp_server
from tidings.api.console import console_files
from tidings.storage.engine import create_engine

pytestmark = pytest.mark.e2e

HOSTILE = "<img src=x onerror=alert(1)>"

#: The newer step features (suppress, a wait for several events, a relative wait, per_key
#: entry), to open on the canvas and export unchanged.
WEBINAR = """\
id: webinar
name: Webinar reminders
trigger: {type: event, event: registered}
entry: {reentry: per_key, key: event.webinar_id, per_key: one_at_a_time}
templates:
  remind: {subject: Starts soon, text: See you}
steps:
  - {id: before, type: wait, at: event.starts_at - 1h, if_missing: go_on, if_past: exit}
  - {id: remind, type: send, template: remind}
  - id: attended
    type: wait
    events:
      - {event: joined, next: done}
      - {event: unsubscribed, next: hold}
    timeout: 2d
  - {id: hold, type: suppress, channel: email, reason: complained}
  - {id: done, type: exit}
"""


def test_preview_follows_the_typing_and_a_test_send_arrives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (console_files() / "index.html").is_file(), "build the console first: make console"
    assert Path(CHROMIUM).is_file(), "install Chromium: apt-get install -y chromium"
    database = f"sqlite:///{tmp_path / 'tidings.db'}"
    webinar = tmp_path / "webinar.yaml"
    webinar.write_text(WEBINAR)
    prepare(database, [ROOT / "examples" / "workflows" / "cart_recovery.yaml", webinar], tmp_path)
    (tmp_path / "people.csv").write_text(f'email,first_name\nann@example.com,"{HOSTILE}"\n')
    run_tidings(database, "contacts", "import", "people.csv", cwd=tmp_path)
    shots = ROOT / "tests" / "e2e" / "screenshots" / "preview"
    with smtp_server() as (sink, port):
        monkeypatch.setenv("TIDINGS_SMTP_URL", f"smtp://127.0.0.1:{port}")
        with serving(database, tmp_path) as base:
            run = run_node(
                "preview.e2e.mjs",
                {
                    "CONSOLE_URL": base,
                    "CONSOLE_EMAIL": EMAIL,
                    "CONSOLE_PASSWORD": PASSWORD,
                    "CONSOLE_HOSTILE_NAME": HOSTILE,
                    "CONSOLE_SCREENSHOTS": str(shots),
                    "CONSOLE_CONTACT_EMAIL": "ann@example.com",
                    "CONSOLE_TEST_TO": "editor@shop.example",
                },
            )
    assert run.returncode == 0, (
        f"{run.stdout}\n{run.stderr}\nserver log:\n" + (tmp_path / "serve.log").read_text()[-3000:]
    )
    assert "ok - no console errors or CSP violations" in run.stdout
    (arrived,) = sink.received
    assert arrived.rcpt_to == ["editor@shop.example"]
    # (The import capitalises first names: `<Img Src=X ...>`.)
    assert arrived.message["Subject"].lower() == f"[test] for {HOSTILE}: teapot"
    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM test_sends")).scalar() == 1
    finally:
        engine.dispose()
