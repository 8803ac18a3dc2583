"""Blueprints for the console's "new workflow" dialog: the list with parameters, and one
filled in and validated (nothing is stored: the console then creates the workflow)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tidings.api.auth import requires
from tidings.api.openapi import problems
from tidings.blueprints import blueprints, find_blueprint, use_blueprint
from tidings.core.problems import Problem
from tidings.errors import NotFound
from tidings.storage.people import Role

# Reading and filling in change nothing; filling in is a POST (it takes a body), so it
# asks for the role that can then create the workflow.
router = APIRouter(prefix="/blueprints", tags=["blueprints"], dependencies=[requires(Role.EDITOR)])


class ParameterOut(BaseModel):
    """One setting of a blueprint."""

    name: str
    default: str
    help: str


class BlueprintOut(BaseModel):
    """A blueprint: its name, what it does and its parameters."""

    name: str
    title: str
    summary: str
    parameters: list[ParameterOut]


class UseIn(BaseModel):
    """Parameter values; those left out take their defaults."""

    values: dict[str, str] = Field(default_factory=dict)


class BlueprintProblem(BaseModel):
    """One problem with the filled-in workflow."""

    path: str
    message: str
    hint: str
    severity: str


class UsedOut(BaseModel):
    """The workflow's YAML (empty when a value was refused), whether it is valid, and
    every problem with its path: post `source` to /api/workflows to create it."""

    source: str
    valid: bool
    problems: list[BlueprintProblem]


def _out(name: str) -> BlueprintOut:
    found = blueprints()[name]
    return BlueprintOut(
        name=found.name,
        title=found.title,
        summary=found.summary,
        parameters=[
            ParameterOut(name=p.name, default=p.default, help=p.help) for p in found.parameters
        ],
    )


@router.get("", response_model=list[BlueprintOut])
def list_all() -> list[BlueprintOut]:
    """Every blueprint."""
    return [_out(name) for name in blueprints()]


@router.post("/{name}", response_model=UsedOut, responses=problems(404))
def use(name: str, body: UseIn) -> UsedOut:
    """Fill a blueprint in and validate the workflow; nothing is stored."""
    found = find_blueprint(name)
    if isinstance(found, Problem):
        raise NotFound(f"{found.message} ({found.hint})")
    used = use_blueprint(found, body.values)
    valid = used.workflow is not None and not any(p.severity == "error" for p in used.problems)
    return UsedOut(
        source=used.source,
        valid=valid,
        problems=[
            BlueprintProblem(path=p.path, message=p.message, hint=p.hint, severity=p.severity)
            for p in used.problems
        ],
    )
