"""The console end to end: real `tidings serve` (SQLite and PostgreSQL), real headless Chromium.

An owner made with `tidings users add` logs in (after a wrong password says so), sees the
workflows list, opens a deployed workflow with a split, waits and a branch, reads its nodes,
labelled edges and a step's settings; builds a small abandoned-cart flow from an empty canvas
by drag and drop (a validation problem on its node, fixed; the YAML view; undo and redo),
publishes it, sends an event through /v1/track and sees the number move; a viewer's publish
is refused by the server; then logs out. A workflow named with HTML shows as text.
No page logs an error or a CSP violation. Screenshots of each page land in
tests/e2e/screenshots/<database>/ (git-ignored) to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.e2e.console_setup import (
    CHROMIUM,
    EMAIL,
    PASSWORD,
    ROOT,
    UI,
    prepare,
    run_node,
    serving,
    tidings,
)
from tests.integration.conftest import PG_ADMIN_URL
from tidings.api.console import console_files
from tidings.storage.engine import create_engine

pytestmark = pytest.mark.e2e

HOSTILE = "<img src=x onerror=alert(1)>"
VIEWER = "viv@shop.example"
SHOTS = ROOT / "tests" / "e2e" / "screenshots"


@pytest.fixture
def workflows(tmp_path: Path) -> list[Path]:
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(
        f'id: hostile\nname: "{HOSTILE}"\ntrigger: {{event: signed_up}}\n'
        "steps:\n  - {id: bye, type: exit}\n"
    )
    return [ROOT / "examples" / "workflows" / "cart_recovery.yaml", hostile]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tidings.db'}"
        return
    name = f"tidings_console_{worker_id}_{tmp_path.name[-12:].replace('-', '_')}".lower()
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_log_in_list_open_a_workflow_then_build_and_publish_one(
    database: str, workflows: list[Path], tmp_path: Path
) -> None:
    # make test builds these first; say how when run alone.
    assert (console_files() / "index.html").is_file(), "build the console first: make console"
    assert (UI / "node_modules" / "playwright-core").is_dir(), "install ui/: make console"
    assert Path(CHROMIUM).is_file(), "install Chromium: apt-get install -y chromium"
    write_key = prepare(database, workflows, tmp_path)
    tidings(database, "users", "add", VIEWER, "--role", "viewer", "--password-stdin",
            stdin=PASSWORD + "\n", cwd=tmp_path)  # fmt: skip
    shots = SHOTS / database.split(":", 1)[0]
    shutil.rmtree(shots, ignore_errors=True)
    with serving(database, tmp_path) as base:
        run = run_node(
            "console.e2e.mjs",
            {
                "CONSOLE_URL": base,
                "CONSOLE_EMAIL": EMAIL,
                "CONSOLE_PASSWORD": PASSWORD,
                "CONSOLE_HOSTILE_NAME": HOSTILE,
                "CONSOLE_SCREENSHOTS": str(shots),
                "CONSOLE_WRITE_KEY": write_key,
                "CONSOLE_VIEWER_EMAIL": VIEWER,
            },
        )
    assert run.returncode == 0, (
        f"{run.stdout}\n{run.stderr}\nserver log:\n" + (tmp_path / "serve.log").read_text()[-3000:]
    )
    assert "ok - no console errors or CSP violations" in run.stdout
    assert sorted(p.name for p in shots.iterdir())[0] == "01-login.png"
