"""`tidings settings show|set FILE`: the delivery settings from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.e2e.test_cli import tidings

pytestmark = pytest.mark.e2e


def test_settings_set_from_a_file_then_shown(tmp_path: Path) -> None:
    database = ("--database", f"sqlite:///{tmp_path}/s.db")
    assert tidings("init", *database, cwd=tmp_path).returncode == 0
    (tmp_path / "settings.yaml").write_text(
        "sender: {from_email: news@shop.example, postal_address: 1 Main St}\n"
        "policies:\n  caps: [{limit: 2, per: 1w}]\n",
        encoding="utf-8",
    )
    done = tidings("settings", "set", "settings.yaml", *database, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = tidings("settings", "show", *database, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    found = yaml.safe_load(shown.stdout)
    assert found["sender"]["from_email"] == "news@shop.example"
    assert found["policies"]["caps"][0]["limit"] == 2


def test_bad_settings_name_each_field_and_change_nothing(tmp_path: Path) -> None:
    database = ("--database", f"sqlite:///{tmp_path}/s.db")
    assert tidings("init", *database, cwd=tmp_path).returncode == 0
    (tmp_path / "bad.yaml").write_text(
        "sender: {from_email: not-an-address}\npolicies:\n  caps: [{limit: many, per: 1w}]\n",
        encoding="utf-8",
    )
    bad = tidings("settings", "set", "bad.yaml", *database, cwd=tmp_path)
    assert bad.returncode == 3
    assert "bad.yaml: sender.from_email" in bad.stderr
    assert "bad.yaml: policies.caps[0].limit" in bad.stderr
    shown = tidings("settings", "show", *database, cwd=tmp_path)
    assert "not-an-address" not in shown.stdout
