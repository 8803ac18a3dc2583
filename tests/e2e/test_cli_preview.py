"""`tidings workflows preview FILE TEMPLATE`: a template rendered for a contact in the
database and a sample event; nothing sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import EXAMPLES, tidings
from tests.servers import smtp_server

pytestmark = pytest.mark.e2e


def test_preview_renders_for_a_contact_and_a_sample_event(tmp_path: Path) -> None:
    database = ("--database", f"sqlite:///{tmp_path}/p.db")
    assert tidings("init", *database, cwd=tmp_path).returncode == 0
    (tmp_path / "people.csv").write_text("email,first_name\nann@example.com,Ann\n")
    assert tidings("contacts", "import", "people.csv", *database, cwd=tmp_path).returncode == 0
    sample = json.dumps({"cart_id": "c9", "value": 30, "items": [{"name": "Cup"}]})
    cart = str(EXAMPLES / "cart_recovery.yaml")
    shown = tidings(
        "workflows", "preview", cart, "cart_reminder", "--contact", "ann@example.com",
        "--event", sample, *database, cwd=tmp_path,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "You left something behind, Ann" in shown.stdout
    assert "<li>Cup</li>" in shown.stdout and "cart/c9" in shown.stdout
    wrong = tidings("workflows", "preview", cart, "cart_remindr", cwd=tmp_path)
    assert wrong.returncode == 3
    assert "did you mean cart_reminder?" in wrong.stderr


def test_test_send_mails_the_step_through_the_mail_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = ("--database", f"sqlite:///{tmp_path}/p.db")
    assert tidings("init", *database, cwd=tmp_path).returncode == 0
    (tmp_path / "people.csv").write_text("email,first_name\nann@example.com,Ann\n")
    assert tidings("contacts", "import", "people.csv", *database, cwd=tmp_path).returncode == 0
    cart = str(EXAMPLES / "cart_recovery.yaml")
    assert tidings("workflows", "deploy", cart, *database, cwd=tmp_path).returncode == 0
    with smtp_server() as (sink, port):
        monkeypatch.setenv("TIDINGS_SMTP_URL", f"smtp://127.0.0.1:{port}")
        sent = tidings(
            "workflows", "test-send", "cart_recovery", "reminder", "--to", "ed@example.com",
            "--contact", "ann@example.com", "--event", '{"cart_id": "c9"}', *database,
            cwd=tmp_path,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        wrong = tidings(
            "workflows", "test-send", "cart_recovery", "wait_1h", "--to", "ed@example.com",
            *database, cwd=tmp_path,
        )  # fmt: skip
    assert "sent '[Test] You left something behind, Ann' to ed@example.com" in sent.stdout
    (arrived,) = sink.received
    assert arrived.rcpt_to == ["ed@example.com"]
    assert arrived.message["Subject"] == "[Test] You left something behind, Ann"
    assert wrong.returncode != 0 and "wait step, not a send" in wrong.stderr
