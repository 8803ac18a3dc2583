"""The audit's findings, each on figures built so that the answer is known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tidings.core.audit import (
    StepRecord,
    Thresholds,
    WorkflowRecord,
    alert_overload,
    audit,
    bottom_performers,
    decayed,
    overloaded,
    stalls,
    untouched,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def record(key: str, entered: int, converted: int, **more: object) -> WorkflowRecord:
    fields: dict[str, object] = {
        "active": True,
        "has_goal": True,
        "updated_at": NOW - timedelta(days=10),
        "sent": entered,
        "clicked": 0,
    }
    fields.update(more)
    return WorkflowRecord(key=key, entered=entered, converted=converted, **fields)  # type: ignore[arg-type]


def test_the_bottom_fifth_of_active_workflows_by_their_rate() -> None:
    records = [record(f"w{i}", 100, 10 + i) for i in range(10)]  # 10% .. 19%
    records.append(record("paused", 100, 1, active=False))  # not judged: not running
    records.append(record("tiny", 5, 0))  # too few contacts to judge
    found = bottom_performers(records)
    assert [f.subject for f in found] == ["w0", "w1"]
    assert found[0].summary == (
        "conversion rate 10.0% (10 of 100), rank 10 of 10; the median workflow has 14.5%"
    )
    assert found[0].numbers["median"] == 0.145
    # A workflow with no goal is judged by its clicks per message.
    clicks = [record("news", 0, 0, has_goal=False, sent=400, clicked=8), record("w", 100, 30)]
    assert [f.numbers["metric"] for f in bottom_performers(clicks)] == ["click rate"]
    assert bottom_performers(records[:1]) == []  # nothing to rank one workflow against


def test_a_significant_drop_quarter_on_quarter_is_flagged() -> None:
    fell = record("fell", 0, 0, previous_quarter=(500, 100), last_quarter=(500, 60))
    noise = record("noise", 0, 0, previous_quarter=(500, 100), last_quarter=(500, 92))
    rose = record("rose", 0, 0, previous_quarter=(500, 60), last_quarter=(500, 100))
    found = decayed([fell, noise, rose])
    assert [f.subject for f in found] == ["fell"]
    assert "fell from 20.0% (100 of 500) to 12.0% (60 of 500)" in found[0].summary


def test_steps_where_most_arrivals_stop() -> None:
    found = stalls(
        [
            StepRecord("cart", "wait_for_visit", "wait", entered=100, waiting=30, left=25),
            StepRecord("cart", "reminder", "send", entered=100, waiting=0, left=10),
            StepRecord("cart", "done", "exit", entered=80, waiting=0, left=80),  # meant to end
            StepRecord("cart", "rare", "wait", entered=10, waiting=10, left=0),  # too few
        ]
    )
    assert [f.subject for f in found] == ["cart > wait_for_visit"]
    assert found[0].summary.startswith("55 of 100 contacts (55.0%) stopped at this wait step")


def test_crowded_contacts_alert_floods_and_forgotten_workflows() -> None:
    assert overloaded([2, 2, 3, 5])[0].numbers == {"contacts": 2, "most": 5}
    assert overloaded([2, 2]) == []
    weeks = [(NOW, 120), (NOW + timedelta(days=7), 301)]
    (flood,) = alert_overload(weeks)
    assert flood.subject == "week of 2026-06-08" and flood.numbers["alerts"] == 301
    assert alert_overload(weeks, Thresholds(alert_budget=100))[0].subject == "week of 2026-06-01"
    old = record("old", 10, 1, updated_at=NOW - timedelta(days=120))
    off = record("off", 10, 1, updated_at=NOW - timedelta(days=400), active=False)
    assert [f.subject for f in untouched([old, off, record("new", 10, 1)], NOW)] == ["old"]


def test_a_healthy_workspace_has_no_findings() -> None:
    records = [record("a", 100, 20), record("b", 100, 20)]
    steps = [StepRecord("a", "s", "send", 100, 0, 5)]
    # Two equal workflows: ranks alone would put one at the bottom; it is not below the
    # median, so it is not flagged.
    assert audit(records, steps, [2], [(NOW, 10)], NOW) == []
    assert [f.kind for f in audit([*records, record("c", 100, 5)], steps, [], [], NOW)] == [
        "bottom"
    ]
