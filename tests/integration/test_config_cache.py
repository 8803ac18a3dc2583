"""Each process keeps the workspace's live workflows, scoring model and segments between
transactions, and reads them again as soon as any process changed them: a publish, a pause,
a new scoring model or a new segment made by one worker is what the next transaction of
every other worker uses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, rows, subscriber
from tidings.runtime.ingest import Incoming, ingest
from tidings.runtime.scoring import set_scoring
from tidings.runtime.segments import define_segment
from tidings.storage.engine import create_engine
from tidings.storage.workflows import Catalog, WorkflowStatus, set_status

WELCOME = """
id: welcome
name: Welcome
trigger: {{event: signed_up}}
templates:
  hi: {{subject: "{subject}", text: "x"}}
steps:
  - {{id: hi, type: send, template: hi}}
"""


@pytest.fixture
def other(store: Store) -> Iterator[Store]:
    """A second worker on the same database: its own engine (its own connections) and its
    own catalog, so nothing it keeps is shared with the first."""
    url = store.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url)
    yield Store(engine, store.workspace_id, Catalog(), store.clock)
    engine.dispose()


_ids = iter(range(1, 1_000_000))


def signed_up(worker: Store, user: str) -> None:
    item = Incoming(f"e{next(_ids)}", user, "signed_up", worker.clock.now())
    ingest(worker.engine, worker.workspace_id, [item], worker.clock, worker.catalog)


def subjects(store: Store) -> list[str]:
    return [r[0] for r in rows(store, "SELECT subject FROM messages ORDER BY id")]


def reads(engine: Engine) -> list[str]:
    """Collects the statements `engine` sends from now on (a list to look at later)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    return seen


def test_a_publish_on_one_worker_is_used_by_the_next_transaction_of_another(
    store: Store, other: Store
) -> None:
    deploy(store, WELCOME.format(subject="Version one"))
    subscriber(store, "ann")
    signed_up(store, "ann")  # the first worker now keeps version one
    assert subjects(store) == ["Version one"]

    deploy(other, WELCOME.format(subject="Version two"))  # published by the other worker
    subscriber(store, "bob")
    signed_up(store, "bob")
    assert subjects(store) == ["Version one", "Version two"]

    with other.engine.begin() as conn:  # paused by the other worker
        set_status(conn, other.workspace_id, "welcome", WorkflowStatus.PAUSED, other.clock.now())
    subscriber(store, "cy")
    signed_up(store, "cy")
    assert subjects(store) == ["Version one", "Version two"]


def test_while_nothing_changes_a_transaction_reads_only_the_stamp(store: Store) -> None:
    deploy(store, WELCOME.format(subject="Hello"))
    subscriber(store, "ann")
    seen = reads(store.engine)
    subscriber(store, "bob")
    signed_up(store, "bob")
    assert subjects(store) == ["Hello"]
    setup = [s for s in seen if " FROM workflows" in s or " FROM segments" in s]
    scoring = [s for s in seen if s.startswith("SELECT workspaces.scoring")]
    assert setup == [] and scoring == []
    assert sum("workspaces.config_stamp" in s for s in seen) == 2  # one per transaction


def test_a_scoring_model_and_a_segment_made_elsewhere_are_used_at_once(
    store: Store, other: Store
) -> None:
    subscriber(store, "ann")
    signed_up(store, "ann")  # the first worker keeps: no scoring, no segments
    rule = {"id": "signup", "event": "signed_up", "points": 5}
    set_scoring(other.engine, other.workspace_id, {"scores": {"activity": {"rules": [rule]}}})
    condition = "contact.scores.activity >= 10"
    define_segment(
        other.engine, other.workspace_id, "active", "Active", condition, other.clock.now()
    )
    members = "SELECT count(*) FROM segment_members"
    signed_up(store, "ann")
    [row] = rows(store, "SELECT scores FROM contacts WHERE external_id = 'ann'")
    assert "activity" in str(row[0]) and rows(store, members)[0][0] == 0  # 5 points
    signed_up(store, "ann")  # 10 points: the segment, made elsewhere, is followed
    assert rows(store, members)[0][0] == 1


def test_a_change_rolled_back_leaves_what_was_kept_in_force(store: Store, other: Store) -> None:
    deploy(store, WELCOME.format(subject="Kept"))
    subscriber(store, "ann")
    signed_up(store, "ann")
    with pytest.raises(RuntimeError), other.engine.begin() as conn:
        set_status(conn, other.workspace_id, "welcome", WorkflowStatus.PAUSED, other.clock.now())
        # The other worker reads its own change before it is thrown away.
        assert other.catalog.config(conn, other.workspace_id).live == ()
        raise RuntimeError("changed my mind")
    subscriber(store, "bob")
    signed_up(other, "bob")  # the worker that kept the paused state reads again
    subscriber(store, "cy")
    signed_up(store, "cy")
    assert subjects(store) == ["Kept", "Kept", "Kept"]
