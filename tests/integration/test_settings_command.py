"""`tidings settings set|show` on both databases: a change from the command line is in the
audit log like one through `PUT /api/settings`, and `show` keeps credentials hidden unless
asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.integration.conftest import Store
from tidings.storage.audit import list_changes

HOOK = "https://hooks.slack.example/services/T000/B000/sEcReTtOkEn"


def _tidings(store: Store, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    url = store.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "TIDINGS_DATABASE_URL": url, "TIDINGS_WORKSPACE": "test"}
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _set(store: Store, tmp_path: Path, document: str) -> None:
    (tmp_path / "settings.yaml").write_text(document, encoding="utf-8")
    done = _tidings(store, "settings", "set", "settings.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_settings_set_is_audited(store: Store, tmp_path: Path) -> None:
    _set(store, tmp_path, "sender: {from_email: news@shop.example}\n")
    with store.engine.connect() as conn:
        [entry] = list_changes(conn, store.workspace_id)
    assert (entry.actor_type, entry.actor, entry.action, entry.subject_type) == (
        "cli",
        "cli",
        "delivery.put_settings",
        "delivery",
    )
    assert entry.details["file"] == "settings.yaml"


def test_settings_show_hides_the_slack_webhook_unless_revealed(
    store: Store, tmp_path: Path
) -> None:
    _set(store, tmp_path, f"alerts: {{slack_webhook_url: '{HOOK}'}}\n")
    shown = _tidings(store, "settings", "show", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "sEcReTtOkEn" not in shown.stdout
    masked = yaml.safe_load(shown.stdout)["alerts"]["slack_webhook_url"]
    assert masked == "https://hooks.slack.example/********"
    revealed = _tidings(store, "settings", "show", "--reveal", cwd=tmp_path)
    assert yaml.safe_load(revealed.stdout)["alerts"]["slack_webhook_url"] == HOOK
    # What `show` printed can be set back without losing the hidden URL.
    _set(store, tmp_path, shown.stdout)
    again = _tidings(store, "settings", "show", "--reveal", cwd=tmp_path)
    assert yaml.safe_load(again.stdout)["alerts"]["slack_webhook_url"] == HOOK


def test_settings_set_refuses_a_timezone_that_is_not_a_zone(store: Store, tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("policies: {timezone: Nowhere/Place}\n", "utf-8")
    done = _tidings(store, "settings", "set", "settings.yaml", cwd=tmp_path)
    assert done.returncode == 3
    assert "policies.timezone" in done.stderr and "Europe/Paris" in done.stderr
