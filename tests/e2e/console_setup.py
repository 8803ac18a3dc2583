"""A real `tidings serve` with a person who can log in, for the console's browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "ui"
CHROMIUM = "/usr/bin/chromium"
EMAIL = "owner@shop.example"
PASSWORD = "correct horse battery staple"


def tidings(database: str, *args: str, stdin: str | None = None, cwd: Path) -> str:
    """Run the `tidings` command on `database`; its output, or the test fails with it."""
    done = subprocess.run(
        [sys.executable, "-m", "tidings", *args, "--database", database],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, f"tidings {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def prepare(database: str, workflows: list[Path], cwd: Path) -> str:
    """A migrated database with a workspace, an owner who logs in, and the workflows; the
    workspace's write key."""
    made = tidings(database, "init", cwd=cwd)
    tidings(database, "users", "add", EMAIL, "--role", "owner", "--name", "Olive Owner",
            "--password-stdin", stdin=PASSWORD + "\n", cwd=cwd)  # fmt: skip
    for workflow in workflows:
        tidings(database, "workflows", "deploy", str(workflow), cwd=cwd)
    (write_key,) = [w for w in made.split() if w.startswith("tdw_")]
    return write_key


@contextmanager
def serving(database: str, cwd: Path) -> Iterator[str]:
    """`tidings serve` on a free loopback port until the block ends; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (cwd / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "tidings", "serve", "--port", str(port), "--database", database],
        cwd=cwd,
        env={**os.environ, "TIDINGS_PUBLIC_URL": base},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, (cwd / "serve.log").read_text()
            assert time.monotonic() < deadline, "tidings serve did not start in 30 s"
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def run_node(
    script: str, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run a Playwright script from ui/e2e with Debian's Chromium."""
    return subprocess.run(
        ["node", f"e2e/{script}"],
        cwd=UI,
        env={**os.environ, "CHROMIUM": CHROMIUM, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
