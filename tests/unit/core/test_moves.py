"""Where a journey waiting in an older version goes on the new one, or why it stays."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import event, workflow
from tidings.core.moves import (
    Move,
    Waiting,
    check_step_map,
    moved_state,
    parse_step_map,
    plan_moves,
)
from tidings.core.spec import Workflow
from tidings.core.state import ContactView, EnrollmentState, EnrollmentStatus, WaitKind

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def flow(steps: str) -> Workflow:
    return workflow(
        f"""
        id: flow
        name: Flow
        trigger: {{event: signed_up}}
        templates:
          hi: {{subject: "Hi", text: "x"}}
          more: {{subject: "More", text: "x"}}
        steps:
{steps}
        """
    )


def waiting(step: str, kind: WaitKind = WaitKind.TIMER, wake_in: timedelta = timedelta(days=1),
            visits: dict[str, int] | None = None, timezone: str = "UTC") -> Waiting:  # fmt: skip
    return Waiting(1, 7, 1, step, kind, NOW + wake_in, timezone, visits)


def one(old: Workflow, new: Workflow, w: Waiting, step_map: dict[str, str] | None = None) -> str:
    """The single line of the plan: 'step -> step: note' or 'step stays: reason'."""
    plan = plan_moves({1: old}, new, 2, [w], step_map or {}, NOW)
    [line] = plan.lines()
    target = f"-> {line.to_step}" if line.to_step else "stays"
    return f"{line.from_step} {target}: {line.note}"


WAIT_2D = """
          - {id: hi, type: send, template: hi}
          - {id: pause, type: wait, for: 2d}
          - {id: more, type: send, template: more}
"""


def test_the_same_wait_keeps_its_deadline() -> None:
    assert one(flow(WAIT_2D), flow(WAIT_2D), waiting("pause")) == "pause -> pause: deadline kept"


def test_a_longer_wait_counts_from_when_the_wait_began() -> None:
    longer = flow(WAIT_2D.replace("for: 2d", "for: 5d"))
    plan = plan_moves({1: flow(WAIT_2D)}, longer, 2, [waiting("pause")], {}, NOW)
    [move] = plan.moves
    # Due in a day of a two-day wait: it began a day ago, so five days end in four.
    assert move.wake_at == NOW + timedelta(days=4)
    assert move.deadline == "wait 2d -> 5d, counted from the wait's start"


def test_a_renamed_step_moves_only_with_a_map() -> None:
    renamed = flow(WAIT_2D.replace("id: pause", "id: hold"))
    assert one(flow(WAIT_2D), renamed, waiting("pause")) == (
        "pause stays: step pause is not in the new version; map it with pause=STEP"
    )
    assert one(flow(WAIT_2D), renamed, waiting("pause"), {"pause": "hold"}) == (
        "pause -> hold: deadline kept"
    )


def test_a_timer_cannot_become_a_wait_for_an_event() -> None:
    for_event = flow(WAIT_2D.replace("for: 2d", "event: paid, timeout: 2d"))
    assert one(flow(WAIT_2D), for_event, waiting("pause")) == (
        "pause stays: a wait for 2d cannot become a wait for paid"
    )


def test_a_wait_that_became_a_send_keeps_its_journeys() -> None:
    became_send = flow(WAIT_2D.replace("{id: pause, type: wait, for: 2d}", "{id: pause, type: send, template: more}"))  # fmt: skip
    assert one(flow(WAIT_2D), became_send, waiting("pause")) == (
        "pause stays: pause is a send step now; a wait cannot become one"
    )


def test_a_journey_held_at_a_send_stays_with_the_true_reason() -> None:
    held = flow(WAIT_2D.replace("template: more}", "template: more, on_deferral: hold}"))
    assert one(held, held, waiting("more", WaitKind.MESSAGE)) == (
        "more stays: it is held at send more until its message goes (on_deferral: hold); "
        "only journeys in a wait or an approval step move"
    )


EITHER = """
          - id: either
            type: wait
            events: [{event: clicked}, {event: replied}]
            timeout: 3d
          - {id: more, type: send, template: more}
"""


def test_an_event_wait_moves_while_one_of_its_events_is_still_awaited() -> None:
    old = flow(EITHER)
    w = waiting("either", WaitKind.EVENT)
    narrower = flow(EITHER.replace("{event: replied}", "{event: opened}"))
    assert one(old, narrower, w) == "either -> either: deadline kept"
    other = flow(EITHER.replace("{event: clicked}, {event: replied}", "{event: opened}"))
    assert one(old, other, w) == (
        "either stays: it awaits clicked, replied, which either no longer awaits"
    )


def test_a_changed_local_time_is_worked_out_again_on_the_contacts_clock() -> None:
    at_nine = """
          - {id: morning, type: wait, until: {time: "09:00"}}
          - {id: more, type: send, template: more}
    """
    at_ten = flow(at_nine.replace("09:00", "10:00"))
    w = waiting("morning", timezone="Europe/Paris")
    [move] = plan_moves({1: flow(at_nine)}, at_ten, 2, [w], {}, NOW).moves
    # 12:00 UTC is 13:00 in Paris: the next 10:00 there is tomorrow's, 09:00 UTC.
    assert move.wake_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


BEFORE_START = """
          - {id: soon, type: wait, at: "event.starts_at - 1h"}
          - {id: more, type: send, template: more}
"""


def _waiting_for(starts_at: str | None) -> Waiting:
    props: dict[str, Any] = {} if starts_at is None else {"starts_at": starts_at}
    state = EnrollmentState(
        id=1, workflow_key="flow", version=1, contact_id=7, status=EnrollmentStatus.WAITING,
        step_id="soon", entered_at=NOW, wake_at=NOW + timedelta(days=1),
        wait_kind=WaitKind.TIMER, trigger=event("signed_up", NOW, **props),
    )  # fmt: skip
    return replace(waiting("soon"), state=state, contact=ContactView(id=7))


def test_a_changed_moment_is_worked_out_again_from_the_journeys_data() -> None:
    later = flow(BEFORE_START.replace("- 1h", "- 2h"))
    w = _waiting_for("2026-03-03T13:00:00Z")
    [move] = plan_moves({1: flow(BEFORE_START)}, later, 2, [w], {}, NOW).moves
    assert move.wake_at == datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
    assert move.deadline == (
        "moment event.starts_at - 1h -> event.starts_at - 2h, worked out again for this contact"
    )


def test_a_changed_moment_that_finds_no_time_is_not_guessed() -> None:
    renewal = flow(BEFORE_START.replace("event.starts_at - 1h", "contact.renewal_date - 30d"))
    assert one(flow(BEFORE_START), renewal, _waiting_for("2026-03-03T13:00:00Z")) == (
        "soon stays: its moment event.starts_at - 1h -> contact.renewal_date - 30d:"
        " no date or time there for this contact"
    )
    # Without the journey's data at hand the planner says so rather than guess.
    assert "not at hand" in one(flow(BEFORE_START), renewal, waiting("soon"))


def test_a_journey_is_not_moved_where_it_would_get_a_message_again() -> None:
    # Version 2 moves the welcome after the wait: those already welcomed would get it twice.
    reordered = flow(
        """
          - {id: pause, type: wait, for: 2d}
          - {id: hi, type: send, template: hi}
          - {id: more, type: send, template: more}
        """
    )
    welcomed = waiting("pause", visits={"hi": 1, "pause": 1})
    assert one(flow(WAIT_2D), reordered, welcomed) == (
        "pause stays: the new version would send hi again after pause; it was sent already"
    )


def test_a_loop_that_sent_again_in_the_old_version_may_do_so_in_the_new() -> None:
    loop = """
          - {id: hi, type: send, template: hi}
          - {id: pause, type: wait, event: replied, timeout: 2d, on_event: done, on_timeout: hi}
          - {id: done, type: exit}
    """
    looped = flow(loop.replace("timeout: 2d", "timeout: 3d"))
    w = waiting("pause", WaitKind.EVENT, visits={"hi": 1})
    plan = plan_moves({1: flow(loop)}, looped, 2, [w], {}, NOW)
    assert len(plan.moves) == 1


def test_the_map_is_read_and_checked_with_the_fix() -> None:
    assert parse_step_map(["a=b", " c = d "]) == {"a": "b", "c": "d"}
    with pytest.raises(ValueError, match="expected OLD=NEW"):
        parse_step_map(["a"])
    with pytest.raises(ValueError, match="mapped twice"):
        parse_step_map(["a=b", "a=c"])
    problems = check_step_map({"pause": "more", "nope": "pause"}, {1: flow(WAIT_2D)}, flow(WAIT_2D))
    assert [(p.path, p.message) for p in problems] == [
        ("map.pause", "'more' is a send step; only waits take contacts"),
        ("map.nope", "no step 'nope' in the older versions (1)"),
    ]


def test_a_moved_journey_keeps_what_it_remembers_under_the_new_step_id() -> None:
    state = EnrollmentState(
        id=1, workflow_key="flow", version=1, contact_id=7, status=EnrollmentStatus.WAITING,
        step_id="pause", entered_at=NOW, wake_at=NOW, wait_kind=WaitKind.EVENT,
        visits={"hi": 1, "pause": 1}, awaited={"pause": event("paid", NOW)},
    )  # fmt: skip
    move = Move(1, 7, 1, "pause", "hold", NOW + timedelta(days=1), "deadline kept")
    moved = moved_state(state, move, 2)
    assert (moved.version, moved.step_id, moved.wake_at) == (2, "hold", NOW + timedelta(days=1))
    assert moved.visits == {"hi": 1, "hold": 1}
    assert set(moved.awaited) == {"hold"}
    assert moved.status is EnrollmentStatus.WAITING


def test_a_shorter_wait_that_has_ended_already_is_due_now() -> None:
    shorter = flow(WAIT_2D.replace("for: 2d", "for: 12h"))
    # Due in a day of a two-day wait: it began a day ago, so twelve hours ended at noon
    # yesterday; the scheduler takes it on at its next tick.
    [move] = plan_moves({1: flow(WAIT_2D)}, shorter, 2, [waiting("pause")], {}, NOW).moves
    assert move.wake_at == NOW - timedelta(hours=12)
    assert move.deadline == "wait 2d -> 12h, counted from the wait's start, due now"
