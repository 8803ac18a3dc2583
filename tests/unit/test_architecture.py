"""The core never reads the clock, the global random generator or the file system.

Which package may import which (the core imports nothing from the shell nor any I/O library,
only storage knows the tables, the API runs no simulation) is declared as import-linter
contracts in pyproject.toml and checked by `lint-imports` in `make check`; this test catches
what imports cannot show: calls such as `datetime.now()` on a module the core may import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "tidings"

CORE_FILES = sorted((SRC / "core").rglob("*.py"))


#: Calls that read the clock, the global random generator, or the file system.
CLOCK_CALLS = {"now", "utcnow", "today"}
MODULE_CALLS = {
    ("time", "time"),
    ("time", "monotonic"),
    ("random", "random"),
    ("random", "randint"),
    ("random", "choice"),
}


def _impure(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name) and func.id == "open":
        return "open"
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else ""
        if (
            func.attr in CLOCK_CALLS
            or (owner, func.attr) in MODULE_CALLS
            or func.attr == "read_text"
        ):
            return f"{owner}.{func.attr}"
    return None


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_core_never_reads_the_clock_or_global_randomness(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            assert _impure(node) is None, f"{path.name}:{node.lineno} calls {_impure(node)}()"
