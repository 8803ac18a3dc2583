"""`tidings workflows publish FILE --migrate --map OLD=NEW`: a dry run first, then the move."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tidings.clock import SystemClock
from tidings.runtime.ingest import IDENTIFY, Incoming, ingest
from tidings.storage.engine import create_engine
from tidings.storage.workflows import Catalog
from tidings.storage.workspaces import find_workspace

pytestmark = pytest.mark.e2e

V1 = """\
id: nurture
name: Nurture
trigger: {event: signed_up}
templates:
  tip: {subject: "A tip", text: "x"}
steps:
  - {id: pause, type: wait, for: 2d}
  - {id: tip, type: send, template: tip}
"""
V2 = V1.replace("id: pause, type: wait, for: 2d", "id: hold, type: wait, for: 3d")


def tidings(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _sign_up(url: str, users: list[str]) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        workspace_id = find_workspace(conn, "default")
    assert workspace_id is not None
    now = SystemClock().now()
    items = []
    for user in users:
        items.append(Incoming(f"i-{user}", user, IDENTIFY, now, traits={"email": f"{user}@x.test"}))
        items.append(Incoming(f"s-{user}", user, "signed_up", now))
    ingest(engine, workspace_id, items, SystemClock(), Catalog())
    engine.dispose()


def _versions(url: str) -> list[tuple[int, str]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT version, step_id FROM enrollments ORDER BY id")).all()
    engine.dispose()
    return [(r[0], r[1]) for r in found]


def test_publish_with_a_move_shows_the_dry_run_then_moves_when_confirmed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    database = ("--database", url)
    assert tidings("init", *database, cwd=tmp_path).returncode == 0
    (tmp_path / "nurture.yaml").write_text(V1, encoding="utf-8")
    assert tidings("workflows", "deploy", "nurture.yaml", *database, cwd=tmp_path).returncode == 0
    _sign_up(url, ["ann", "bob"])
    (tmp_path / "nurture.yaml").write_text(V2, encoding="utf-8")

    refused = tidings(
        "workflows", "publish", "nurture.yaml", "--migrate", "--map", "pause=hold", *database,
        cwd=tmp_path, stdin="n\n",
    )  # fmt: skip
    assert refused.returncode == 1, refused.stderr
    assert "v1 pause" in refused.stdout and "v2 hold" in refused.stdout
    assert "wait 2d -> 3d, counted from the wait's start" in refused.stdout
    assert "2 move, 0 stay on their version" in refused.stdout
    assert "nothing changed" in refused.stdout
    assert _versions(url) == [(1, "pause"), (1, "pause")]

    done = tidings(
        "workflows", "publish", "nurture.yaml", "--migrate", "--map", "pause=hold", "--yes",
        *database, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "nurture: deployed, version 2, active" in done.stdout
    assert "nurture: moved 2 to version 2; 0 stay on their version" in done.stdout
    assert _versions(url) == [(2, "hold"), (2, "hold")]
    story = tidings("contacts", "why", "ann", *database, cwd=tmp_path)
    assert "from version 1 step pause to version 2 step hold" in story.stdout, story.stderr


def test_a_map_to_a_missing_step_is_refused_and_nothing_is_published(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    database = ("--database", url)
    assert tidings("init", *database, cwd=tmp_path).returncode == 0
    (tmp_path / "nurture.yaml").write_text(V1, encoding="utf-8")
    assert tidings("workflows", "deploy", "nurture.yaml", *database, cwd=tmp_path).returncode == 0
    _sign_up(url, ["ann"])
    (tmp_path / "nurture.yaml").write_text(V2, encoding="utf-8")
    wrong = tidings(
        "workflows", "publish", "nurture.yaml", "--migrate", "--map", "pause=hodl", "--yes",
        *database, cwd=tmp_path,
    )  # fmt: skip
    assert wrong.returncode == 3
    assert "no step 'hodl' in the new version" in wrong.stderr
    listed = tidings("workflows", "list", *database, cwd=tmp_path)
    assert "v1" in listed.stdout


def test_migrate_moves_onto_a_version_already_deployed_and_is_audited(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    database = ("--database", url)
    assert tidings("init", *database, cwd=tmp_path).returncode == 0
    (tmp_path / "nurture.yaml").write_text(V1, encoding="utf-8")
    assert tidings("workflows", "deploy", "nurture.yaml", *database, cwd=tmp_path).returncode == 0
    _sign_up(url, ["ann"])
    (tmp_path / "nurture.yaml").write_text(V2, encoding="utf-8")
    assert tidings("workflows", "deploy", "nurture.yaml", *database, cwd=tmp_path).returncode == 0
    assert _versions(url) == [(1, "pause")]  # deploying alone leaves them where they are
    unmapped = tidings("workflows", "migrate", "nurture", "--yes", *database, cwd=tmp_path)
    assert unmapped.returncode == 0, unmapped.stderr
    assert "step pause is not in the new version; map it with pause=STEP" in unmapped.stdout
    assert "moved 0 to version 2; 1 stay" in unmapped.stdout
    moved = tidings(
        "workflows", "migrate", "nurture", "--map", "pause=hold", "--yes", *database, cwd=tmp_path
    )
    assert moved.returncode == 0, moved.stderr
    assert "nurture: moved 1 to version 2; 0 stay on their version" in moved.stdout
    assert _versions(url) == [(2, "hold")]
    nothing = tidings("workflows", "migrate", "nurture", *database, cwd=tmp_path)
    assert "nurture: no journeys wait in an older version" in nothing.stdout
    engine = create_engine(url)
    with engine.connect() as conn:
        audited = conn.execute(
            text("SELECT actor, action, subject_key FROM audit_log ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in audited][-2:] == [
        ("cli", "workflows.apply_migration", "nurture"),
        ("cli", "workflows.apply_migration", "nurture"),
    ]
