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


SHELL_TOP_FILES = sorted([*(SRC / "api").rglob("*.py"), *(SRC / "cli").rglob("*.py")])


@pytest.mark.parametrize("path", SHELL_TOP_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_the_api_and_cli_write_through_the_runtimes_retried_transactions(path: Path) -> None:
    """A write opened with `engine.begin()` would fail on the first deadlock instead of
    running again: requests and commands use `runtime.transactions` (`attempts`, `transact`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "begin"
        and not node.args
    ]
    assert not found, f"{path.name}: engine.begin() on lines {found}; use attempts(engine)"


def test_one_class_name_one_meaning() -> None:
    """Two classes of one name in the shell and the core are two meanings of one word: a
    reader who meets `Outcome` must know which one it is without looking at the import."""
    seen: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                seen.setdefault(node.name, []).append(str(path.relative_to(SRC)))
    assert {name: where for name, where in seen.items() if len(where) > 1} == {}
