"""`tidings blueprints list|show|use`: a classic flow filled in, written and deployed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli import tidings

pytestmark = pytest.mark.e2e


def test_use_a_blueprint_then_deploy_it(tmp_path: Path) -> None:
    database = ("--database", f"sqlite:///{tmp_path}/b.db")
    assert tidings("init", *database, cwd=tmp_path).returncode == 0
    listed = tidings("blueprints", "list", cwd=tmp_path)
    assert listed.returncode == 0 and "cart_recovery_sms" in listed.stdout
    shown = tidings("blueprints", "show", "webinar", cwd=tmp_path)
    assert "remind_before" in shown.stdout and 'at: "trigger.starts_at - 1h"' in shown.stdout
    used = tidings(
        "blueprints", "use", "webinar", "--set", "key=spring_talk", "--set", "remind_before=2h",
        "--deploy", *database, cwd=tmp_path,
    )  # fmt: skip
    assert used.returncode == 0, used.stderr
    assert "written to spring_talk.yaml" in used.stdout
    assert "spring_talk: deployed, version 1" in used.stdout
    assert 'at: "trigger.starts_at - 2h"' in (tmp_path / "spring_talk.yaml").read_text()
    listed_workflows = tidings("workflows", "list", *database, cwd=tmp_path)
    assert "spring_talk" in listed_workflows.stdout
    wrong = tidings("blueprints", "use", "webinar", "--set", "remind_befor=2h", cwd=tmp_path)
    assert wrong.returncode == 3
    assert "did you mean remind_before?" in wrong.stderr
