"""A whole simulated run: fresh store, workflows deployed, population, virtual days."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from tidings.clock import VirtualClock
from tidings.core.spec import Workflow
from tidings.delivery.settings import DeliverySettings
from tidings.delivery.transports import Transports
from tidings.runtime.dispatch import Round
from tidings.simulation.population import make_population
from tidings.simulation.run import Progress, Simulation, SimulationTotals
from tidings.storage.enrollments import first_converted_after_message
from tidings.storage.migrate import upgrade
from tidings.storage.workflows import Catalog, deploy_workflow
from tidings.storage.workspaces import ensure_workspace, mark_simulated, save_settings

#: Virtual runs start here, so two runs with the same seed tell the same story.
SIMULATION_START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


#: The demo store's delivery settings: a sender, and the policies a careful shop sets.
DEMO_SETTINGS: dict[str, Any] = {
    "sender": {
        "from_email": "hello@fernhill.example",
        "from_name": "Fernhill",
        "postal_address": "Fernhill Goods, 12 Orchard Lane, Bristol BS1 4DJ, UK",
    },
    "policies": {
        "caps": [{"limit": 3, "per": "7d", "channel": "email"}],
        "duplicates": {"within": "1d"},
    },
    "topics": [{"key": "offers", "name": "Offers and discounts"}],
}


#: The demo's planted effect: its simulated customers click the free-shipping offer 2.5
#: times as often as their habit says, so the welcome series' A/B test has a true winner
#: for the report to find and the send to promote.
DEMO_APPEAL: dict[str, float] = {"first_order_shipping": 2.5}
#: The workflow whose first conversion the demo tells the story of.
DEMO_STORY_WORKFLOW = "cart_recovery"


def demo_story(conn: Connection, workspace_id: int) -> tuple[str, int] | None:
    """(user id, contact id) of the demo's example: the first contact whose cart a message
    recovered; None when the run recovered none."""
    return first_converted_after_message(conn, workspace_id, DEMO_STORY_WORKFLOW)


@dataclass(frozen=True)
class ScenarioResult:
    """What a run left behind: where to look, and the simulator's own counts."""

    workspace_id: int
    catalog: Catalog
    totals: SimulationTotals
    started_at: datetime
    ended_at: datetime
    deliveries: Round = field(default_factory=Round)


def run_scenario(  # noqa: PLR0913 (keyword-only options)
    engine: Engine,
    workflows: list[tuple[Workflow, str]],
    *,
    contacts: int,
    days: float,
    seed: int = 7,
    progress: Progress | None = None,
    channels: Transports | None = None,
    settings: dict[str, Any] | None = None,
    appeal: Mapping[str, float] | None = None,
) -> ScenarioResult:
    """Deploy `workflows` (spec, source) into a fresh database and simulate `days` days.

    Messages go through the real dispatcher and the workspace's `settings` (policies,
    sender); `channels` sends them for real (the demo's --smtp), else nothing leaves.
    """
    upgrade(engine)
    clock = VirtualClock(SIMULATION_START)
    with engine.begin() as conn:
        workspace_id = ensure_workspace(conn, "default", "Fernhill (simulated store)", clock.now())
        if settings is not None:
            save_settings(
                conn,
                workspace_id,
                DeliverySettings.model_validate(settings).model_dump(mode="json", by_alias=True),
            )
        for workflow, source in workflows:
            deploy_workflow(conn, workspace_id, workflow, source, clock.now())
    rng = random.Random(seed)
    people = make_population(contacts, clock.now(), int(days), rng)
    catalog = Catalog()
    simulation = Simulation(engine, workspace_id, people, clock, rng, catalog, channels, appeal)
    simulation.seed()
    totals = simulation.run(days, progress)
    with engine.begin() as conn:
        mark_simulated(conn, workspace_id, clock.now())
    return ScenarioResult(
        workspace_id,
        catalog,
        totals,
        SIMULATION_START,
        clock.now(),
        simulation.dispatcher.totals,
    )
