"""Golden replays: each example workflow's recorded history must not change by accident.

After a deliberate change to the interpreter, re-record with UPDATE_GOLDEN=1 and review
the diff like any other change of behaviour.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.golden.replay import replay

CASES = sorted(p for p in Path(__file__).parent.iterdir() if (p / "script.yaml").exists())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_history_is_unchanged(case: Path) -> None:
    lines = replay(case)
    expected = case / "expected.log"
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_text("\n".join(lines) + "\n")
    assert expected.exists(), f"no recording for {case.name}; run with UPDATE_GOLDEN=1"
    assert lines == expected.read_text().splitlines()
