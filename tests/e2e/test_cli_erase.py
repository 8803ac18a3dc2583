"""`tidings contacts erase`: asks first, erases as the API does, says what went."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tidings.storage.engine import create_engine

pytestmark = pytest.mark.e2e


def tidings(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_erase_asks_first_then_leaves_only_hashes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    database = ("--database", url)
    assert tidings("init", *database, cwd=tmp_path).returncode == 0
    (tmp_path / "people.csv").write_text(
        "email,phone,user_id\nann@example.com,+14155550123,u1\nbob@example.com,,u2\n",
        encoding="utf-8",
    )
    imported = tidings("contacts", "import", "people.csv", *database, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr

    # Saying no changes nothing, and says so
    refused = tidings("contacts", "erase", "ann@example.com", *database, cwd=tmp_path, stdin="n\n")
    assert refused.returncode == 1
    assert "Erase contact ann@example.com" in refused.stdout and "nothing changed" in refused.stdout
    kept = tidings("contacts", "export", "ann@example.com", *database, cwd=tmp_path)
    assert json.loads(kept.stdout)["profile"]["phone"] == "+14155550123"

    # Saying yes erases the contact and prints what went
    done = tidings("contacts", "erase", "u1", *database, cwd=tmp_path, stdin="y\n")
    assert done.returncode == 0, done.stderr
    assert "erased contact 1: contacts 1" in done.stdout
    assert "3 identifier(s) kept as hashes on the suppression list" in done.stdout
    gone = tidings("contacts", "export", "ann@example.com", *database, cwd=tmp_path)
    assert gone.returncode == 1 and "no contact 'ann@example.com'" in gone.stderr

    # --yes does not ask; an unknown contact is an error naming what was asked for
    by_id = tidings("contacts", "erase", "2", "--yes", *database, cwd=tmp_path)
    assert by_id.returncode == 0, by_id.stderr
    assert "Erase" not in by_id.stdout and "erased contact 2" in by_id.stdout
    unknown = tidings("contacts", "erase", "nobody@example.com", "--yes", *database, cwd=tmp_path)
    assert unknown.returncode == 1
    assert "no contact 'nobody@example.com'" in unknown.stderr

    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM contacts")).scalar() == 0
        audit = conn.execute(text("SELECT actor, action, subject_key FROM audit_log")).all()
        suppressed = conn.execute(text("SELECT reason FROM suppressions")).scalars().all()
    engine.dispose()
    # Each erasure is on the audit log, by id, like the API's
    assert [tuple(r) for r in audit] == [
        ("cli", "contacts.erase", "1"),
        ("cli", "contacts.erase", "2"),
    ]
    assert set(suppressed) == {"erased"} and len(suppressed) == 5
