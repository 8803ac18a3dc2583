"""Dependencies point one way: the core imports nothing from the shell and does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "tidings"

#: What the pure core may import: the standard library's pure parts, pydantic, python-liquid.
ALLOWED_IN_CORE = {
    "__future__",
    "collections",
    "contextlib",
    "dataclasses",
    "datetime",
    "difflib",
    "enum",
    "functools",
    "hashlib",
    "json",
    "math",
    "re",
    "statistics",  # NormalDist: pure arithmetic
    "typing",
    "zoneinfo",
    "pydantic",
    "liquid",
    "inscriptis",  # HTML to text: a pure function of its input
    "tidings",
}
FORBIDDEN_TIDINGS = (
    "tidings.storage",
    "tidings.runtime",
    "tidings.cli",
    "tidings.simulation",
    "tidings.clock",
    "tidings.config",
    "tidings.files",
    "tidings.delivery",
    "tidings.api",
)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


CORE_FILES = sorted((SRC / "core").rglob("*.py"))


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_core_imports_only_pure_modules(path: Path) -> None:
    for name in _imports(path):
        assert name.split(".")[0] in ALLOWED_IN_CORE, f"{path.name} imports {name}"
        assert not name.startswith(FORBIDDEN_TIDINGS), f"{path.name} imports the shell: {name}"


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


def test_storage_is_the_only_package_that_knows_tables() -> None:
    for path in SRC.rglob("*.py"):
        if "storage" in path.parts:
            continue
        for name in _imports(path):
            assert name != "tidings.storage.tables", (
                f"{path.relative_to(SRC)} reads tables directly"
            )
