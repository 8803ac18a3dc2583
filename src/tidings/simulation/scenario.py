"""A whole simulated run: fresh store, workflows deployed, population, virtual days."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from tidings.clock import VirtualClock
from tidings.core.spec import Workflow
from tidings.simulation.population import make_population
from tidings.simulation.run import Progress, Simulation, SimulationTotals
from tidings.storage.migrate import upgrade
from tidings.storage.workflows import Catalog, deploy_workflow
from tidings.storage.workspaces import ensure_workspace

#: Virtual runs start here, so two runs with the same seed tell the same story.
SIMULATION_START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ScenarioResult:
    """What a run left behind: where to look, and the simulator's own counts."""

    workspace_id: int
    catalog: Catalog
    totals: SimulationTotals
    started_at: datetime
    ended_at: datetime


def run_scenario(
    engine: Engine,
    workflows: list[tuple[Workflow, str]],
    *,
    contacts: int,
    days: float,
    seed: int = 7,
    progress: Progress | None = None,
) -> ScenarioResult:
    """Deploy `workflows` (spec, source) into a fresh database and simulate `days` days."""
    upgrade(engine)
    clock = VirtualClock(SIMULATION_START)
    with engine.begin() as conn:
        workspace_id = ensure_workspace(conn, "default", "Fernhill (simulated store)", clock.now())
        for workflow, source in workflows:
            deploy_workflow(conn, workspace_id, workflow, source, clock.now())
    rng = random.Random(seed)
    people = make_population(contacts, clock.now(), int(days), rng)
    catalog = Catalog()
    simulation = Simulation(engine, workspace_id, people, clock, rng, catalog)
    simulation.seed()
    totals = simulation.run(days, progress)
    return ScenarioResult(workspace_id, catalog, totals, SIMULATION_START, clock.now())
