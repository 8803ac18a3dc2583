"""`tidings serve` counts each client by one address everywhere: the peer's, or behind a
trusted proxy (TIDINGS_TRUST_PROXY) the address the proxy appended to X-Forwarded-For. The
login throttle and the access log agree with the other limits, and a client cannot escape
the per-address login limit by making up the header."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port
from tidings.api.login_throttle import PER_ADDRESS

pytestmark = pytest.mark.e2e

#: What the proxy appends, and entries a client makes up before it.
CLIENT, NEIGHBOUR, MADE_UP = "198.51.100.7", "198.51.100.8", "203.0.113."


@contextmanager
def serving(tmp_path: Path, **env: str) -> Iterator[tuple[httpx.Client, Path]]:
    """`tidings serve` on loopback with `env`; a client, and the file its log goes to."""
    database = f"sqlite:///{tmp_path / 'tidings.db'}"
    subprocess.run(
        [sys.executable, "-m", "tidings", "init", "--database", database],
        capture_output=True,
        check=True,
        cwd=tmp_path,
    )
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "tidings", "serve", "--port", str(port), "--database", database],
            cwd=tmp_path,
            env={**os.environ, "TIDINGS_LOG_FORMAT": "text", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield client, log
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)


def fail_login(client: httpx.Client, n: int, forwarded: str) -> int:
    """A wrong password for a new email each time, so only the address's count can refuse."""
    attempt = {"email": f"guess{n}@example.com", "password": "wrong password"}
    return client.post(
        "/api/session", json=attempt, headers={"X-Forwarded-For": forwarded}
    ).status_code


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(tmp_path: Path) -> None:
    with serving(tmp_path) as (client, log):
        for n in range(PER_ADDRESS):
            assert fail_login(client, n, f"{MADE_UP}{n}") == 401
        # A new made-up address each time changes nothing: the peer is counted.
        assert fail_login(client, PER_ADDRESS, f"{MADE_UP}99") == 429
        assert fail_login(client, PER_ADDRESS + 1, NEIGHBOUR) == 429
    written = log.read_text()
    assert "127.0.0.1" in written and MADE_UP not in written and NEIGHBOUR not in written


def test_behind_a_trusted_proxy_the_address_it_appended_counts(tmp_path: Path) -> None:
    with serving(tmp_path, TIDINGS_TRUST_PROXY="true") as (client, log):
        for n in range(PER_ADDRESS):
            assert fail_login(client, n, f"{MADE_UP}{n}, {CLIENT}") == 401
        assert fail_login(client, PER_ADDRESS, f"{MADE_UP}99, {CLIENT}") == 429
        # Another client behind the same proxy has its own count.
        assert fail_login(client, PER_ADDRESS + 1, NEIGHBOUR) == 401
    # The access log names the same clients, never an entry they made up.
    written = log.read_text()
    assert f"{CLIENT}:0" in written and f"{NEIGHBOUR}:0" in written
    assert MADE_UP not in written
