"""An event arrives: enrollment, re-entry, goals and exits, awaited events."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from tests.helpers import contact, event, problems_of, workflow
from tidings.core import (
    EnrollmentState,
    EnrollmentStatus,
    LiveVersion,
    Resume,
    Save,
    SendMessage,
    Start,
    advance,
    react,
)
from tidings.core.spec import Workflow

CART = """
id: cart
name: Cart recovery
trigger: {event: cart_abandoned, where: "event.value > 20"}
entry: {reentry: per_key, key: event.cart_id}
exit:
  - {event: unsubscribed}
  - {event: order_completed, where: "event.cart_id == trigger.cart_id"}
goal: {event: order_completed, within: 3d, revenue: revenue}
templates:
  r: {subject: "Your cart", html: "<p>{{ event.value }}</p>"}
steps:
  - {id: wait, type: wait, for: 1h}
  - {id: remind, type: send, template: r}
  - {id: wait_order, type: wait, event: order_completed, timeout: 1d, on_event: thanks, on_timeout: last}
  - {id: last, type: send, template: r, next: done}
  - {id: thanks, type: update, add_tags: [recovered]}
  - {id: done, type: exit}
"""


def started(
    wf: Workflow, at: datetime, cart: str = "c1", value: float = 50, enrollment_id: int = 7
) -> EnrollmentState:
    reacted = react(
        event("cart_abandoned", at, cart_id=cart, value=value),
        contact(),
        [LiveVersion(wf, 1)],
        [],
        at,
    )
    (start,) = reacted.transitions
    assert isinstance(start, Start)
    return advance(wf, replace(start.state, id=enrollment_id), contact(), at).state


def test_a_matching_event_enrolls_with_its_key(now: datetime) -> None:
    wf = workflow(CART)
    reacted = react(
        event("cart_abandoned", now, cart_id="c1", value=50),
        contact(),
        [LiveVersion(wf, 3)],
        [],
        now,
    )
    (start,) = reacted.transitions
    assert isinstance(start, Start)
    assert (start.state.workflow_key, start.state.version, start.state.entry_key) == (
        "cart",
        3,
        "c1",
    )
    assert start.state.step_id == "wait" and start.state.status is EnrollmentStatus.ACTIVE


def test_the_trigger_condition_filters_and_says_why(now: datetime) -> None:
    wf = workflow(CART)
    reacted = react(
        event("cart_abandoned", now, cart_id="c1", value=5),
        contact(),
        [LiveVersion(wf, 1)],
        [],
        now,
    )
    assert reacted.transitions == ()
    (line,) = reacted.decisions
    assert line.action == "not_enrolled" and "event.value > 20" in line.detail


def test_no_contact_is_enrolled_twice_at_once_for_the_same_key(now: datetime) -> None:
    wf = workflow(CART)
    state = started(wf, now)
    again = react(
        event("cart_abandoned", now, cart_id="c1", value=60),
        contact(),
        [LiveVersion(wf, 1)],
        [(wf, state)],
        now,
    )
    assert again.transitions == ()
    assert again.decisions[0].detail == "already in this workflow for 'c1'"
    other_cart = react(
        event("cart_abandoned", now, cart_id="c2", value=60),
        contact(),
        [LiveVersion(wf, 1)],
        [(wf, state)],
        now,
    )
    assert [type(t) for t in other_cart.transitions] == [Start]


def test_per_key_allows_one_journey_per_key_ever(now: datetime) -> None:
    wf = workflow(CART)
    done = replace(started(wf, now), status=EnrollmentStatus.COMPLETED)
    later = now + timedelta(days=30)
    again = react(
        event("cart_abandoned", later, cart_id="c1", value=60),
        contact(),
        [LiveVersion(wf, 1)],
        [(wf, done)],
        later,
    )
    assert again.transitions == () and "already had a journey for 'c1'" in again.decisions[0].detail


def test_per_key_one_at_a_time_allows_a_key_again_once_its_journey_ended(now: datetime) -> None:
    wf = workflow(
        CART.replace("key: event.cart_id}", "key: event.cart_id, per_key: one_at_a_time}")
    )
    first = started(wf, now)
    later = now + timedelta(days=30)

    def again(past: EnrollmentState) -> tuple[object, ...]:
        event_ = event("cart_abandoned", later, cart_id="c1", value=60)
        return react(event_, contact(), [LiveVersion(wf, 1)], [(wf, past)], later).transitions

    # While the cart's journey runs, the same cart starts no second one ...
    assert again(first) == ()
    # ... and once it ended, the cart may start a new one.
    assert [type(t) for t in again(replace(first, status=EnrollmentStatus.COMPLETED))] == [Start]


def test_per_key_choice_needs_per_key_reentry() -> None:
    found = problems_of(
        CART.replace("{reentry: per_key, key: event.cart_id}", "{per_key: one_at_a_time}")
    )
    assert any("per_key: one_at_a_time applies to reentry: per_key" in p for p in found), found


@pytest.mark.parametrize(
    ("policy", "days_later", "enters"),
    [
        ("reentry: once", 400, False),  # once means once ever
        ("reentry: always", 0, True),  # always: whenever not in it right now
        ("{reentry: period, period: 30d}", 29, False),  # inside the period
        ("{reentry: period, period: 30d}", 30, True),  # the period has passed
    ],
)
def test_reentry_policies(now: datetime, policy: str, days_later: int, enters: bool) -> None:
    wf = workflow(
        f"""
        id: news
        name: News
        trigger: {{event: signed_up}}
        entry: {policy.replace("reentry: ", "{reentry: ") + "}" if policy.startswith("reentry") else policy}
        steps: [{{id: done, type: exit}}]
        """
    )
    first = react(event("signed_up", now), contact(), [LiveVersion(wf, 1)], [], now).transitions[0]
    assert isinstance(first, Start)
    closed = replace(first.state, id=1, status=EnrollmentStatus.EXITED)
    later = now + timedelta(days=days_later)
    again = react(event("signed_up", later), contact(), [LiveVersion(wf, 1)], [(wf, closed)], later)
    assert bool(again.transitions) is enters


def test_entry_condition(now: datetime) -> None:
    wf = workflow(
        """
        id: vip
        name: VIP
        trigger: {event: signed_up}
        entry: {when: 'contact.tags contains "vip"'}
        steps: [{id: done, type: exit}]
        """
    )
    assert (
        react(event("signed_up", now), contact(), [LiveVersion(wf, 1)], [], now).transitions == ()
    )
    vip = contact(tags=frozenset({"vip"}))
    assert len(react(event("signed_up", now), vip, [LiveVersion(wf, 1)], [], now).transitions) == 1


def test_old_events_are_stored_but_start_nothing(now: datetime) -> None:
    wf = workflow(CART)
    old = event("cart_abandoned", now - timedelta(days=3), cart_id="c1", value=50)
    assert react(old, contact(), [LiveVersion(wf, 1)], [], now).transitions == ()


def test_purchase_while_waiting_reaches_the_goal_and_leaves(now: datetime) -> None:
    wf = workflow(CART)
    state = started(wf, now)
    assert state.status is EnrollmentStatus.WAITING and state.step_id == "wait"
    bought = now + timedelta(minutes=20)
    reacted = react(
        event("order_completed", bought, eid=9, cart_id="c1", revenue=49.9),
        contact(),
        [],
        [(wf, state)],
        bought,
    )
    (save,) = reacted.transitions
    assert isinstance(save, Save)
    assert save.state.status is EnrollmentStatus.EXITED
    assert save.state.converted_at == bought and save.state.revenue == 49.9
    assert [d.action for d in reacted.decisions] == ["converted", "exited"]


def test_a_goal_after_its_window_is_no_conversion_but_the_exit_rule_still_applies(
    now: datetime,
) -> None:
    wf = workflow(CART)
    state = started(wf, now)
    late = now + timedelta(days=4)
    reacted = react(
        event("order_completed", late, cart_id="c1", revenue=10), contact(), [], [(wf, state)], late
    )
    (save,) = reacted.transitions
    assert isinstance(save, Save)
    assert save.state.converted_at is None
    assert save.state.exit_reason == "exit event: order_completed"


def test_a_conversion_after_the_journey_ended_still_counts_within_the_window(now: datetime) -> None:
    wf = workflow(CART)
    finished = replace(started(wf, now), status=EnrollmentStatus.COMPLETED)
    later = now + timedelta(days=2)
    reacted = react(
        event("order_completed", later, cart_id="c1", revenue=30),
        contact(),
        [],
        [(wf, finished)],
        later,
    )
    (save,) = reacted.transitions
    assert isinstance(save, Save) and save.state.converted_at == later
    assert save.state.status is EnrollmentStatus.COMPLETED


def test_an_exit_rule_only_matches_its_own_cart(now: datetime) -> None:
    wf = workflow(
        CART.replace("goal: {event: order_completed, within: 3d, revenue: revenue}\n", "")
    )
    state = started(wf, now)
    other = react(event("order_completed", now, cart_id="c2"), contact(), [], [(wf, state)], now)
    assert other.transitions == ()
    same = react(event("order_completed", now, cart_id="c1"), contact(), [], [(wf, state)], now)
    assert same.transitions[0].state.status is EnrollmentStatus.EXITED


def _waiting_for_order(wf: Workflow, now: datetime) -> EnrollmentState:
    state = started(wf, now)
    later = now + timedelta(hours=1)
    state = advance(wf, state, contact(), later).state
    assert (state.step_id, state.status) == ("wait_order", EnrollmentStatus.WAITING)
    return state


NO_GOAL = CART.replace(
    "goal: {event: order_completed, within: 3d, revenue: revenue}\n", ""
).replace('  - {event: order_completed, where: "event.cart_id == trigger.cart_id"}\n', "")


def test_wait_for_event_the_event_comes_first(now: datetime) -> None:
    wf = workflow(NO_GOAL)
    state = _waiting_for_order(wf, now)
    arrived = now + timedelta(hours=5)
    reacted = react(
        event("order_completed", arrived, cart_id="c1"), contact(), [], [(wf, state)], arrived
    )
    (resume,) = reacted.transitions
    assert isinstance(resume, Resume) and resume.state.step_id == "thanks"
    result = advance(wf, resume.state, contact(), arrived)
    assert "recovered" in result.contact.tags
    # `thanks` falls through to `done`, the step listed after it
    assert (result.state.status, result.state.exit_reason) == (
        EnrollmentStatus.EXITED,
        "exit step done",
    )


def test_wait_for_event_the_timeout_comes_first(now: datetime) -> None:
    wf = workflow(NO_GOAL)
    state = _waiting_for_order(wf, now)
    assert state.wake_at == now + timedelta(hours=1, days=1)
    early = advance(wf, state, contact(), state.wake_at - timedelta(seconds=1))
    assert early.state == state and early.effects == ()  # woken early: nothing happens
    result = advance(wf, state, contact(), state.wake_at)
    assert [d.action for d in result.decisions][:2] == ["timed_out", "queued"]
    (last,) = result.effects
    assert isinstance(last, SendMessage) and last.step_id == "last"
    assert result.state.status is EnrollmentStatus.EXITED
    # the event arriving after the timeout resumes nothing
    late = state.wake_at + timedelta(minutes=1)
    assert (
        react(event("order_completed", late), contact(), [], [(wf, result.state)], late).transitions
        == ()
    )


def test_an_unsubscribe_event_exits_whatever_the_step(now: datetime) -> None:
    wf = workflow(CART)
    state = started(wf, now)
    reacted = react(event("unsubscribed", now), contact(), [], [(wf, state)], now)
    assert reacted.transitions[0].state.exit_reason == "exit event: unsubscribed"


def test_a_contact_condition_exit_is_checked_on_every_event(now: datetime) -> None:
    wf = workflow(
        CART.replace("exit:\n", "exit:\n  - {when: 'contact.tags contains \"sunset\"'}\n")
    )
    state = started(wf, now)
    sunset = contact(tags=frozenset({"sunset"}))
    reacted = react(event("page_viewed", now), sunset, [], [(wf, state)], now)
    assert reacted.transitions[0].state.exit_reason == 'exit rule: contact.tags contains "sunset"'


def test_an_order_converts_only_the_journey_of_its_cart(now: datetime) -> None:
    wf = workflow(CART)
    cart_a = started(wf, now, cart="a", enrollment_id=1)
    cart_b = started(wf, now + timedelta(minutes=5), cart="b", enrollment_id=2)
    bought = now + timedelta(minutes=30)
    reacted = react(
        event("order_completed", bought, cart_id="a", revenue=40),
        contact(),
        [],
        [(wf, cart_a), (wf, cart_b)],
        bought,
    )
    (save,) = reacted.transitions
    assert save.state.id == 1 and save.state.converted_at == bought
    assert save.state.status is EnrollmentStatus.EXITED
    assert [d.action for d in reacted.decisions] == ["converted", "exited"]


def test_an_order_of_an_unknown_cart_converts_no_cart_journey(now: datetime) -> None:
    wf = workflow(CART)
    journey = started(wf, now, cart="a")
    bought = now + timedelta(minutes=30)
    reacted = react(
        event("order_completed", bought, cart_id="z", revenue=40),
        contact(),
        [],
        [(wf, journey)],
        bought,
    )
    assert reacted.transitions == () and reacted.decisions == ()


#: Re-entry at any time, no key: several journeys may wait for the same goal.
ALWAYS = """
id: nurture
name: Nurture
trigger: {event: signed_up}
entry: {reentry: always}
goal: {event: order_completed, within: 7d, revenue: revenue}
steps:
  - {id: wait, type: wait, for: 1d}
"""


def signed_up(wf: Workflow, at: datetime, enrollment_id: int) -> EnrollmentState:
    (start,) = react(event("signed_up", at), contact(), [LiveVersion(wf, 1)], [], at).transitions
    assert isinstance(start, Start)
    return advance(wf, replace(start.state, id=enrollment_id), contact(), at).state


def test_without_a_key_an_order_converts_the_latest_journey_once(now: datetime) -> None:
    wf = workflow(ALWAYS)
    older = replace(
        signed_up(wf, now - timedelta(days=3), enrollment_id=1), status=EnrollmentStatus.COMPLETED
    )
    newer = signed_up(wf, now - timedelta(hours=2), enrollment_id=2)
    reacted = react(
        event("order_completed", now, revenue=25, cart_id="x"),
        contact(),
        [],
        [(wf, older), (wf, newer)],
        now,
    )
    (save,) = reacted.transitions
    assert save.state.id == 2 and save.state.revenue == 25
    assert [d.action for d in reacted.decisions] == ["converted", "exited"]
