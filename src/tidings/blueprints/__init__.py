"""Blueprints: the ten flows every marketing team runs, as parameterised workflows.

Each blueprint is a YAML file in this folder: a `blueprint:` header (its title, what it
does, its parameters with defaults) and the workflow's YAML text, where `${name}` stands
for a parameter. Every placeholder sits inside a double-quoted YAML string, and a value
may hold no quote, backslash, brace, percent sign or line break, so a value can change
what a string says but never the document's structure or a template's code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from tidings.core.problems import Problem, suggest
from tidings.core.schema import OPEN_SCHEMA
from tidings.core.spec import Workflow
from tidings.core.validate import validate_workflow

FOLDER = Path(__file__).parent
_PLACEHOLDER = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")
#: What a parameter's value may not hold (see the module's docstring).
_UNSAFE = re.compile(r'["\\{}%\x00-\x1f\x7f]')
MAX_VALUE_LENGTH = 200


@dataclass(frozen=True)
class Parameter:
    """One setting of a blueprint."""

    name: str
    default: str
    help: str


@dataclass(frozen=True)
class Blueprint:
    """A parameterised workflow."""

    name: str
    title: str
    summary: str
    parameters: tuple[Parameter, ...]
    text: str


@dataclass(frozen=True)
class Used:
    """A blueprint filled in: the workflow's YAML, the workflow (None when invalid) and
    every problem, each with its path."""

    source: str
    workflow: Workflow | None
    problems: list[Problem]


def _load(path: Path) -> Blueprint:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    head = document["blueprint"]
    parameters = tuple(
        Parameter(name, str(p["default"]), str(p.get("help", "")))
        for name, p in (head.get("parameters") or {}).items()
    )
    return Blueprint(path.stem, head["title"], head["summary"], parameters, document["workflow"])


@lru_cache(maxsize=1)
def blueprints() -> dict[str, Blueprint]:
    """Every blueprint, by name."""
    return {p.stem: _load(p) for p in sorted(FOLDER.glob("*.yaml"))}


def find_blueprint(name: str) -> Blueprint | Problem:
    """The blueprint called `name`, or a problem with the closest name."""
    found = blueprints().get(name)
    if found is not None:
        return found
    hint = suggest(name, blueprints()) or f"there are {', '.join(blueprints())}"
    return Problem("name", f"no blueprint {name!r}", hint)


def use_blueprint(blueprint: Blueprint, values: Mapping[str, str]) -> Used:
    """Fill the blueprint's parameters (defaults for those not given) and validate it."""
    known = {p.name: p.default for p in blueprint.parameters}
    problems = []
    for name, value in values.items():
        if name not in known:
            hint = suggest(name, known) or f"it takes {', '.join(known) or 'no parameters'}"
            problems.append(Problem(name, f"{blueprint.name} has no parameter {name!r}", hint))
        elif len(value) > MAX_VALUE_LENGTH or _UNSAFE.search(value):
            problems.append(
                Problem(
                    name,
                    f"{value[:40]!r} cannot be used",
                    f"at most {MAX_VALUE_LENGTH} characters, without quotes, backslashes,"
                    " braces, % or line breaks",
                )
            )
    if problems:
        return Used("", None, problems)
    chosen = {**known, **values}
    source = _PLACEHOLDER.sub(lambda m: chosen[m.group(1)], blueprint.text)
    workflow, found = validate_workflow(yaml.safe_load(source), OPEN_SCHEMA)
    return Used(source, workflow, found)
