"""Reading workflow and schema files from disk, with problems that name the line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tidings.core.problems import Problem
from tidings.core.schema import OPEN_SCHEMA, Schema, schema_from_mapping
from tidings.core.spec import Workflow
from tidings.core.validate import validate_workflow

#: The schema file looked for beside workflow files.
SCHEMA_FILE = "schema.yaml"


@dataclass(frozen=True)
class LoadedWorkflow:
    """A workflow file after validation."""

    path: Path
    source: str
    workflow: Workflow | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        """The problems that stop the workflow from running."""
        return [p for p in self.problems if p.severity == "error"]


def read_document(path: Path) -> tuple[Any, str, list[Problem]]:
    """Parse a YAML or JSON file; a syntax error becomes a problem with its line."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, "", [Problem("", f"cannot read the file: {exc.strerror}")]
    try:
        if path.suffix == ".json":
            return json.loads(source), source, []
        return yaml.safe_load(source), source, []
    except json.JSONDecodeError as exc:
        return None, source, [Problem(f"line {exc.lineno}", f"invalid JSON: {exc.msg}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(exc, "problem", None) or str(exc)
        return None, source, [Problem(where, f"invalid YAML: {what}")]
    except RecursionError:
        # Both readers recurse; a document this deep is never a workflow.
        return None, source, [Problem("", "the document is nested too deeply to read")]


def load_schema(directory: Path) -> tuple[Schema, list[Problem]]:
    """The schema beside the workflow files, or the open schema when there is none."""
    path = directory / SCHEMA_FILE
    if not path.exists():
        return OPEN_SCHEMA, []
    data, _, problems = read_document(path)
    if problems:
        return OPEN_SCHEMA, problems
    return schema_from_mapping(data, SCHEMA_FILE)


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Files as given, directories as their YAML and JSON files, the schema file left out."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
        else:
            found.append(path)
    return [p for p in found if p.name != SCHEMA_FILE]


def load_workflows(
    paths: Sequence[Path], known: frozenset[str] = frozenset()
) -> list[LoadedWorkflow]:
    """Validate workflow files together, so `enroll` steps may name each other.

    A directory stands for the workflow files in it; the schema file is not a workflow.
    """
    documents = [(p, *read_document(p)) for p in expand_paths(paths)]
    ids = {d.get("id") for _, d, _, _ in documents if isinstance(d, dict)}
    known_ids = known | frozenset(i for i in ids if isinstance(i, str))
    loaded = []
    for path, data, source, problems in documents:
        if problems:
            loaded.append(LoadedWorkflow(path, source, None, problems))
            continue
        schema, schema_problems = load_schema(path.parent)
        workflow, found = validate_workflow(data, schema, known_ids)
        loaded.append(LoadedWorkflow(path, source, workflow, schema_problems + found))
    return loaded
