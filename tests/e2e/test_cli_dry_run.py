"""`tidings workflows simulate` as a dry run on the workspace's own data, from the shell:
a sample of real contacts, an events file with a bad line, a result kept and read back."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tidings.clock import VirtualClock
from tidings.runtime.ingest import IDENTIFY, Incoming, ingest
from tidings.storage.engine import create_engine
from tidings.storage.workflows import Catalog
from tidings.storage.workspaces import find_workspace

pytestmark = pytest.mark.e2e

WELCOME = """
id: welcome
name: Welcome
trigger: {event: signed_up}
templates:
  hello: {subject: "Hello", text: "x"}
steps:
  - id: which
    type: branch
    branches:
      - {when: 'contact.plan == "gold"', next: gold}
    else: hello
  - {id: gold, type: exit}
  - {id: hello, type: send, template: hello}
"""


def tidings(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def seed(database: str) -> None:
    """Two customers who signed up yesterday, in the database's default workspace."""
    engine = create_engine(database)
    with engine.connect() as conn:
        workspace_id = find_workspace(conn, "default")
    assert workspace_id is not None
    clock = VirtualClock(datetime.now(UTC).replace(microsecond=0))
    settings = {"sender": {"from_email": "hi@shop.example", "postal_address": "1 Main St"}}
    with engine.begin() as conn:
        conn.execute(text("UPDATE workspaces SET settings = :s"), {"s": json.dumps(settings)})
    calls = []
    for user in ("ann", "bob"):
        traits = {"email": f"{user}@x.example", "consent": {"email": "subscribed"}}
        calls.append(Incoming(f"{user}-1", user, IDENTIFY, clock.now(), traits=traits))
        calls.append(Incoming(f"{user}-2", user, "signed_up", clock.now()))
    ingest(engine, workspace_id, calls, clock, Catalog())
    engine.dispose()


def _replay(
    tmp_path: Path, database: str, lines: Sequence[object]
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Write `lines` as an events file and dry-run welcome.yaml on it."""
    events = tmp_path / "events.ndjson"
    events.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    command = ("workflows", "simulate", "welcome.yaml", "--events", str(events))
    return events, tidings(*command, "--database", database, cwd=tmp_path)


def test_a_dry_run_on_the_workspaces_contacts_kept_and_reported(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    assert tidings("init", "--database", database, cwd=tmp_path).returncode == 0
    seed(database)
    (tmp_path / "welcome.yaml").write_text(WELCOME)
    before = (tmp_path / "shop.db").read_bytes()
    result = tidings(
        "workflows",
        "simulate",
        "welcome.yaml",
        "--contacts",
        "all",
        "--database",
        database,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "shop.db").read_bytes() == before  # not a byte changed
    out = result.stdout
    assert "2 contacts copied" in out
    assert "welcome (Welcome): 2 entered" in out
    assert "never reached: gold" in out
    assert 'never taken: which: contact.plan == "gold" -> gold' in out

    kept = tidings(
        "workflows",
        "simulate",
        "welcome.yaml",
        "--sample",
        "1",
        "--save",
        "launch",
        "--database",
        database,
        cwd=tmp_path,
    )
    assert kept.returncode == 0, kept.stderr
    assert "kept as launch" in kept.stdout
    shown = tidings("report", "--dry-run", "launch", "--database", database, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "welcome (Welcome): 1 entered" in shown.stdout
    missing = tidings("report", "--dry-run", "nope", "--database", database, cwd=tmp_path)
    assert missing.returncode != 0
    assert "no dry run kept as 'nope'; kept: launch" in missing.stderr


def test_an_events_file_with_a_bad_line(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    assert tidings("init", "--database", database, cwd=tmp_path).returncode == 0
    (tmp_path / "welcome.yaml").write_text(WELCOME)
    lines = [
        {
            "type": "identify",
            "userId": "cy",
            "traits": {"email": "cy@x.example", "consent": {"email": "subscribed"}},
            "timestamp": "2026-03-02T10:00:00Z",
        },
        {"type": "track", "userId": "cy", "timestamp": "2026-03-02T10:01:00Z"},
        {
            "type": "track",
            "userId": "cy",
            "event": "signed_upp",
            "timestamp": "2026-03-02T10:02:00Z",
        },
    ]
    events, result = _replay(tmp_path, database, lines)
    assert result.returncode == 0, result.stderr
    assert f"{events}: line 2.event: track needs the event's name" in result.stderr
    assert "2 events replayed, 1 refused" in result.stdout
    assert "the trigger (event signed_up) never fired" in result.stderr
    assert "did you mean signed_upp?" in result.stderr


def test_an_events_file_spanning_decades_is_refused_naming_the_line(tmp_path: Path) -> None:
    """A mistyped year would keep the virtual clock stepping for hours: the run is refused
    at once, and the message names the lines that stretch it."""
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    assert tidings("init", "--database", database, cwd=tmp_path).returncode == 0
    (tmp_path / "welcome.yaml").write_text(WELCOME)
    lines = [
        {"type": "track", "userId": "cy", "event": "signed_up", "timestamp": "2026-03-02"},
        {"type": "track", "userId": "cy", "event": "paid", "timestamp": "2026-03-03"},
        {"type": "track", "userId": "cy", "event": "paid", "timestamp": "2062-03-03"},
    ]
    _, result = _replay(tmp_path, database, lines)
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert "line 3 of the file is at 2062-03-03 00:00" in message
    assert "after line 1 of the file at 2026-03-02 00:00" in message
    assert "a dry run replays at most 365 days" in message
