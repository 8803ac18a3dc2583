"""`tidings serve` delivering for real: an event over HTTP becomes an email at an SMTP
server on loopback, and the email's one-click unsubscribe works against the server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, smtp_server

pytestmark = pytest.mark.e2e

WELCOME = """
id: welcome
name: Welcome
trigger: {event: signed_up}
templates:
  hi: {subject: "Welcome {{ contact.first_name }}", html: "<p>Hi! <a href='https://shop.example/'>Shop</a></p>"}
steps:
  - {id: hi, type: send, template: hi}
"""


def _wait(check: object, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_serve_sends_email_and_honours_one_click_unsubscribe(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'tidings.db'}"
    init = subprocess.run(
        [sys.executable, "-m", "tidings", "init", "--database", database],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    write = re.search(r"(tdw_\S+)", init.stdout)
    secret = re.search(r"(tds_\S+)", init.stdout)
    assert write and secret, init.stdout
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with smtp_server() as (sink, smtp_port):
        env = {
            **os.environ,
            "TIDINGS_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "TIDINGS_PUBLIC_URL": base,
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "tidings", "serve", "--port", str(port), "--database", database],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {secret.group(1)}"})
        events = httpx.Client(base_url=base, auth=(write.group(1), ""))
        try:

            def up() -> bool:
                try:
                    return admin.get("/api/settings").status_code == 200
                except httpx.TransportError:
                    return False

            _wait(up, "the server to start")
            deployed = admin.post(
                "/api/workflows", content=WELCOME, headers={"content-type": "application/yaml"}
            )
            assert deployed.status_code in (200, 201), deployed.text
            identify = {
                "userId": "ann",
                "traits": {
                    "email": "ann@example.com",
                    "first_name": "Ann",
                    "consent": {"email": "subscribed"},
                },
            }
            assert events.post("/v1/identify", json=identify).status_code == 200
            assert (
                events.post("/v1/track", json={"userId": "ann", "event": "signed_up"}).status_code
                == 200
            )

            _wait(lambda: len(sink.received) == 1, "the welcome email")
            message = sink.received[0].message
            assert message["Subject"] == "Welcome Ann"
            unsubscribe = message["List-Unsubscribe"].strip("<>")
            assert unsubscribe.startswith(f"{base}/u/")

            # What a mailbox provider does for RFC 8058: one POST, no cookie, no redirect.
            done = httpx.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
            assert done.status_code == 200
            [contact] = admin.get("/api/contacts").json()
            assert contact["consent"]["email"] == "unsubscribed"
            detail = admin.get(f"/api/contacts/{contact['id']}").json()
            assert [s["action"] for s in detail["steps"] if s["action"] == "sent"] == ["sent"]
        finally:
            admin.close()
            events.close()
            server.terminate()
            server.wait(20)
