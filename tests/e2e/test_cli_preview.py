"""`tidings workflows preview FILE TEMPLATE`: a template rendered for a contact in the
database and a sample event; nothing sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import EXAMPLES, tidings

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
