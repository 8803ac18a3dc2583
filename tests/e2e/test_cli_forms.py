"""`tidings form` as a user runs it: define from a file, list, figures; mistakes exit 3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).parents[2] / "examples" / "forms" / "contact.yaml"


def tidings(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    database = f"sqlite:///{cwd / 'tidings.db'}"
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args, "--database", database],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_form_is_deployed_listed_and_versioned(tmp_path: Path) -> None:
    assert tidings("init", cwd=tmp_path).returncode == 0
    first = tidings("forms", "deploy", str(EXAMPLE), cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "form contact at version 1" in first.stdout and "/f/default/contact" in first.stdout
    changed = tmp_path / "contact.yaml"
    changed.write_text(EXAMPLE.read_text().replace("Talk to us", "Write to us"))
    assert "version 2" in tidings("forms", "deploy", str(changed), cwd=tmp_path).stdout
    listed = tidings("forms", "list", cwd=tmp_path)
    assert "contact" in listed.stdout and "Contact us" in listed.stdout
    assert tidings("forms", "figures", "contact", cwd=tmp_path).returncode == 0


def test_a_bad_form_names_each_mistake_and_exits_3(tmp_path: Path) -> None:
    assert tidings("init", cwd=tmp_path).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "key: contact\nname: C\nfields:\n  - {key: email, label: Email, type: colour}\n"
        "redirect: https://evil.example/\n"
    )
    result = tidings("forms", "deploy", str(bad), cwd=tmp_path)
    assert result.returncode == 3
    assert "fields.0.type" in result.stderr
    open_redirect = tmp_path / "redirect.yaml"
    open_redirect.write_text(EXAMPLE.read_text() + "redirect: https://evil.example/\n")
    result = tidings("forms", "deploy", str(open_redirect), cwd=tmp_path)
    assert result.returncode == 3 and "allowed_origins" in result.stderr
