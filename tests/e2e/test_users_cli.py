"""`tidings users` as an operator runs it, and the people it adds can log in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tidings.api.app import create_app
from tidings.storage.engine import create_engine

pytestmark = pytest.mark.e2e


def tidings(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_add_list_remove_and_log_in(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'tidings.db'}"
    # Only `tidings init` creates a workspace; people are added to an existing one.
    assert tidings("init", "--database", database, cwd=tmp_path).returncode == 0
    added = tidings(
        "users", "add", "Ann@Example.com", "--role", "owner", "--name", "Ann",
        "--password-stdin", "--database", database,
        cwd=tmp_path, stdin="a long passphrase\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    assert "ann@example.com is owner in workspace default" in added.stdout
    short = tidings(
        "users", "add", "bo@example.com", "--role", "viewer", "--password-stdin",
        "--database", database, cwd=tmp_path, stdin="short\n",
    )  # fmt: skip
    assert short.returncode == 1
    assert "password: use at least 8 characters" in short.stderr
    bad_role = tidings(
        "users", "add", "bo@example.com", "--role", "admin", "--password-stdin",
        "--database", database, cwd=tmp_path, stdin="a long passphrase\n",
    )  # fmt: skip
    assert bad_role.returncode == 2
    listed = tidings("users", "list", "--database", database, cwd=tmp_path)
    assert "ann@example.com" in listed.stdout and "owner" in listed.stdout

    engine = create_engine(database)
    with TestClient(create_app(engine)) as client:
        login = {"email": "ann@example.com", "password": "a long passphrase"}
        response = client.post("/api/session", json=login)
        assert response.status_code == 200, response.text
        assert response.json()["role"] == "owner"
    engine.dispose()

    last = tidings("users", "remove", "ann@example.com", "--database", database, cwd=tmp_path)
    assert last.returncode == 1
    assert "last owner" in last.stderr
    tidings(
        "users", "add", "bo@example.com", "--role", "owner", "--password-stdin",
        "--database", database, cwd=tmp_path, stdin="another passphrase\n",
    )  # fmt: skip
    removed = tidings("users", "remove", "ann@example.com", "--database", database, cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    listed = tidings("users", "list", "--database", database, cwd=tmp_path)
    assert "ann@example.com" not in listed.stdout and "bo@example.com" in listed.stdout
