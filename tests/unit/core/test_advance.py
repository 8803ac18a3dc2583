"""Every step type has a real effect; journeys run until they wait or end."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import contact, event, workflow
from tidings.core import (
    CallWebhook,
    Enroll,
    EnrollmentState,
    EnrollmentStatus,
    Notify,
    RequestApproval,
    SendMessage,
    UpdateContact,
    WaitKind,
    advance,
    decide,
)
from tidings.core.spec import Workflow


def begin(wf: Workflow, now: datetime, enrollment_id: int = 1, **props: Any) -> EnrollmentState:
    return EnrollmentState(
        id=enrollment_id,
        workflow_key=wf.id,
        version=1,
        contact_id=1,
        status=EnrollmentStatus.ACTIVE,
        step_id=wf.steps[0].id,
        entered_at=now,
        trigger=event("cart_abandoned", now, **props),
    )


def flow(steps: str, templates: str = "", extra: str = "") -> Workflow:
    return workflow(
        f"""
id: t
name: Test
trigger: {{event: cart_abandoned}}
{extra}
templates:
  hello: {{subject: "Hi {{{{ contact.first_name | default: 'there' }}}}", html: "<p>{{{{ event.note }}}}</p>", text: "Total {{{{ event.value }}}}"}}
  other: {{subject: "B", text: "b"}}
{templates}
steps:
{steps}
"""
    )


def test_send_renders_the_template_for_the_contact_and_event(now: datetime) -> None:
    wf = flow("  - {id: s, type: send, template: hello}")
    ann = contact(attributes={"first_name": "Ann"})
    result = advance(wf, begin(wf, now, value=42, note="<b>bold</b>"), ann, now)
    (message,) = result.effects
    assert isinstance(message, SendMessage)
    assert (message.subject, message.text) == ("Hi Ann", "Total 42")
    assert message.html == "<p>&lt;b&gt;bold&lt;/b&gt;</p>"  # event data is escaped in HTML
    assert (message.to, message.kind, message.idempotency_key) == (
        "c1@example.com",
        "marketing",
        "1:s:1",
    )
    assert result.state.status is EnrollmentStatus.COMPLETED


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        (
            contact(consent={"email": "unsubscribed"}),
            "no email marketing consent (status: unsubscribed)",
        ),
        (contact(consent={}), "no email marketing consent (status: unknown)"),
        (contact(email=None), "the contact has no email address"),
    ],
)
def test_send_is_held_with_its_reason(now: datetime, who: object, reason: str) -> None:
    wf = flow("  - {id: s, type: send, template: hello}")
    result = advance(wf, begin(wf, now), who, now)  # type: ignore[arg-type]
    assert result.effects == ()
    assert (result.decisions[0].action, result.decisions[0].detail) == ("held", reason)
    assert result.state.status is EnrollmentStatus.COMPLETED  # the journey goes on


def test_transactional_sends_ignore_marketing_consent(now: datetime) -> None:
    wf = flow("  - {id: s, type: send, template: hello, kind: transactional}")
    result = advance(wf, begin(wf, now), contact(consent={"email": "unsubscribed"}), now)
    assert len(result.effects) == 1


def test_ab_variants_split_by_weight_and_stay_put(now: datetime) -> None:
    wf = flow(
        "  - {id: s, type: send, variants: [{name: a, template: hello, weight: 3}, {name: b, template: other}]}"
    )
    picks = [advance(wf, begin(wf, now, i), contact(), now).effects[0] for i in range(4000)]
    share_a = sum(isinstance(p, SendMessage) and p.variant == "a" for p in picks) / len(picks)
    assert 0.72 < share_a < 0.78
    again = advance(wf, begin(wf, now, 17), contact(), now).effects[0]
    assert isinstance(again, SendMessage) and again.variant == picks[17].variant  # type: ignore[union-attr]


def test_a_holdout_holds_the_same_contact_out_of_every_journey(now: datetime) -> None:
    split = (
        "  - {id: s, type: split, paths: [{name: treated, percent: 80, next: hi},"
        " {name: held, percent: 20, next: rest, holdout: true}]}\n"
        "  - {id: hi, type: send, template: hello, next: rest}\n"
        "  - {id: rest, type: exit}"
    )
    wf = flow(split)

    def path(contact_id: int, enrollment_id: int) -> str:
        state = replace(begin(wf, now, enrollment_id), contact_id=contact_id)
        line = advance(wf, state, contact(contact_id), now).decisions[0]
        return str(line.data["path"])

    paths = {c: {path(c, c * 1000 + j) for j in range(5)} for c in range(1, 301)}
    assert all(len(found) == 1 for found in paths.values())  # one path per person
    held = sum(found == {"held"} for found in paths.values()) / len(paths)
    assert 0.14 < held < 0.26


def _test(choose: str) -> Workflow:
    return flow(
        "  - {id: s, type: send, variants: [{name: a, template: hello}, {name: b, template: other}],"
        f" winner: {{metric: clicks, choose: {choose}, min_sample: 100}}}}"
    )


def _picks(wf: Workflow, now: datetime, arms: dict[str, tuple[int, int]], n: int = 2000) -> float:
    """The share of `n` journeys sent variant b, given the tallies so far."""
    picks = [
        advance(wf, begin(wf, now, i), contact(), now, {"s": arms}).effects[0] for i in range(n)
    ]
    return sum(isinstance(p, SendMessage) and p.variant == "b" for p in picks) / n


def test_a_promoting_test_splits_until_a_significant_winner_then_sends_only_it(
    now: datetime,
) -> None:
    wf = _test("promote")
    # Before any result, and while below the minimum sample: the even split.
    assert 0.45 < _picks(wf, now, {}) < 0.55
    assert 0.45 < _picks(wf, now, {"a": (5, 60), "b": (30, 60)}) < 0.55
    # Enough sends and no significant difference: still split.
    assert 0.45 < _picks(wf, now, {"a": (20, 200), "b": (24, 200)}) < 0.55
    # b clicks 15% against a's 8% over 400 sends each (p < 0.01): only b from now on,
    # and the journal says why.
    won = {"a": (32, 400), "b": (60, 400)}
    assert _picks(wf, now, won, 200) == 1.0
    result = advance(wf, begin(wf, now), contact(), now, {"s": won})
    assert "promoted: won on clicks (60 of 400)" in result.decisions[0].detail
    # A control that wins is promoted too.
    assert _picks(wf, now, {"a": (60, 400), "b": (32, 400)}, 200) == 0.0


def test_thompson_sampling_leans_toward_the_likely_best_and_stays_stable(now: datetime) -> None:
    wf = _test("thompson")
    assert 0.4 < _picks(wf, now, {}) < 0.6  # no data: a coin toss
    leaning = _picks(wf, now, {"a": (10, 100), "b": (16, 100)})
    assert 0.75 < leaning < 0.98  # likely better, not certain: mostly b, still some a
    assert _picks(wf, now, {"a": (80, 1000), "b": (160, 1000)}, 500) > 0.99
    arms = {"s": {"a": (10, 100), "b": (16, 100)}}
    first = advance(wf, begin(wf, now, 5), contact(), now, arms).effects[0]
    again = advance(wf, begin(wf, now, 5), contact(), now, arms).effects[0]
    assert isinstance(first, SendMessage) and isinstance(again, SendMessage)
    assert first.variant == again.variant  # a retry of the same send picks the same arm


def test_wait_for_a_duration_then_continue(now: datetime) -> None:
    wf = flow("  - {id: w, type: wait, for: 3d}\n  - {id: s, type: send, template: hello}")
    waiting = advance(wf, begin(wf, now), contact(), now).state
    assert (waiting.status, waiting.wait_kind, waiting.wake_at) == (
        EnrollmentStatus.WAITING,
        WaitKind.TIMER,
        now + timedelta(days=3),
    )
    assert advance(wf, waiting, contact(), now + timedelta(days=2)).state == waiting
    done = advance(wf, waiting, contact(), now + timedelta(days=3))
    assert [type(e) for e in done.effects] == [SendMessage]


def test_wait_until_a_local_time_crosses_dst(now: datetime) -> None:
    wf = flow(
        "  - {id: w, type: wait, until: {time: '09:00'}}\n  - {id: s, type: send, template: hello}"
    )
    # Saturday 7 March 2026, 20:00 UTC: New York moves its clocks forward overnight
    saturday = datetime(2026, 3, 7, 20, tzinfo=UTC)
    ny = contact(timezone="America/New_York")
    waiting = advance(wf, begin(wf, saturday), ny, saturday).state
    assert waiting.wake_at == datetime(2026, 3, 8, 13, tzinfo=UTC)  # 09:00 EDT, not 14:00
    tokyo = contact(timezone="Asia/Tokyo")
    assert advance(wf, begin(wf, saturday), tokyo, saturday).state.wake_at == datetime(
        2026, 3, 8, 0, tzinfo=UTC
    )


def test_branch_takes_the_first_arm_that_holds_and_logs_the_values(now: datetime) -> None:
    wf = flow(
        "  - {id: b, type: branch, branches: ["
        "{when: 'event.value > 100', next: big}, {when: 'event.value > 10', next: mid}], else: small}\n"
        "  - {id: big, type: exit, reason: big}\n"
        "  - {id: mid, type: exit, reason: mid}\n"
        "  - {id: small, type: exit, reason: small}"
    )
    for value, expected in [(500, "big"), (50, "mid"), (5, "small"), (None, "small")]:
        result = advance(wf, begin(wf, now, value=value), contact(), now)
        assert result.state.exit_reason == expected
    first = advance(wf, begin(wf, now, value=500), contact(), now).decisions[0]
    assert first.action == "branched" and first.data["values"] == {"event.value": 500}


def test_split_proportions_are_within_tolerance(now: datetime) -> None:
    wf = flow(
        "  - {id: s, type: split, paths: [{name: a, percent: 20, next: a}, {name: b, percent: 80, next: b}]}\n"
        "  - {id: a, type: exit, reason: a}\n  - {id: b, type: exit, reason: b}"
    )
    reasons = [
        advance(wf, begin(wf, now, i), contact(), now).state.exit_reason for i in range(5000)
    ]
    assert 0.18 < reasons.count("a") / len(reasons) < 0.22


def test_update_changes_the_contact_and_later_steps_see_it(now: datetime) -> None:
    wf = flow(
        "  - {id: u, type: update, set: {plan: gold}, add_tags: [vip], score: 5, consent: {sms: unsubscribed}}\n"
        "  - {id: b, type: branch, branches: [{when: 'contact.plan == \"gold\"', next: gold}]}\n"
        "  - {id: gold, type: exit, reason: saw the update}"
    )
    result = advance(wf, begin(wf, now), contact(), now)
    (update,) = result.effects
    assert isinstance(update, UpdateContact)
    assert (dict(update.set), update.add_tags, update.score_delta, dict(update.consent)) == (
        {"plan": "gold"},
        ("vip",),
        5,
        {"sms": "unsubscribed"},
    )
    assert result.state.exit_reason == "saw the update"
    assert result.contact.score == 5 and "vip" in result.contact.tags


def test_webhook_notify_and_enroll_become_effects(now: datetime) -> None:
    wf = flow(
        "  - {id: crm, type: webhook, url: 'https://crm.example/hook', body: '{\"email\": \"{{ contact.email }}\"}'}\n"
        "  - {id: alert, type: notify, to: sales@example.com, message: 'Hot lead {{ contact.email }}'}\n"
        "  - {id: more, type: enroll, workflow: nurture}"
    )
    effects = advance(wf, begin(wf, now), contact(), now).effects
    webhook, alert, enroll = effects
    assert isinstance(webhook, CallWebhook) and webhook.body == '{"email": "c1@example.com"}'
    assert isinstance(alert, Notify) and alert.text == "Hot lead c1@example.com"
    assert isinstance(enroll, Enroll) and enroll.workflow_key == "nurture"


APPROVAL = """
  - {id: ask, type: approval, message: 'Call {{ contact.email }}?', timeout: 2d, on_approve: call, on_reject: skip, on_timeout: late}
  - {id: call, type: exit, reason: approved}
  - {id: skip, type: exit, reason: rejected}
  - {id: late, type: exit, reason: nobody answered}
"""


@pytest.mark.parametrize(("approved", "reason"), [(True, "approved"), (False, "rejected")])
def test_approval_waits_for_a_decision(now: datetime, approved: bool, reason: str) -> None:
    wf = flow(APPROVAL)
    result = advance(wf, begin(wf, now), contact(), now)
    (request,) = result.effects
    assert isinstance(request, RequestApproval) and request.message == "Call c1@example.com?"
    assert result.state.wait_kind is WaitKind.APPROVAL
    decided = decide(
        wf, result.state, contact(), now + timedelta(hours=3), approved=approved, by="rep"
    )
    assert decided.state.exit_reason == reason
    assert decided.decisions[0].detail == "by rep"


def test_approval_times_out(now: datetime) -> None:
    wf = flow(APPROVAL)
    waiting = advance(wf, begin(wf, now), contact(), now).state
    assert (
        advance(wf, waiting, contact(), now + timedelta(days=2)).state.exit_reason
        == "nobody answered"
    )
    # a decision after the journey moved on changes nothing
    late = decide(
        wf,
        replace(waiting, status=EnrollmentStatus.EXITED),
        contact(),
        now,
        approved=True,
        by="rep",
    )
    assert late.decisions[0].action == "ignored"


def test_loops_visit_again_with_new_idempotency_keys(now: datetime) -> None:
    wf = flow(
        "  - {id: s, type: send, template: hello}\n"
        "  - {id: w, type: wait, for: 1d}\n"
        "  - {id: b, type: branch, branches: [{when: 'contact.score < 1', next: s}]}"
    )
    state = advance(wf, begin(wf, now), contact(), now).state
    again = advance(wf, state, contact(), now + timedelta(days=1))
    (message,) = again.effects
    assert isinstance(message, SendMessage) and message.idempotency_key == "1:s:2"


def test_a_loop_without_a_wait_is_stopped_not_run_forever(now: datetime) -> None:
    # Validation refuses this workflow; the guard protects against one stored without it.
    wf = Workflow.model_validate(
        {
            "id": "loop",
            "name": "Loop",
            "trigger": {"type": "event", "event": "x"},
            "steps": [{"id": "a", "type": "update", "score": 1, "next": "a"}],
        }
    )
    result = advance(wf, begin(wf, now), contact(), now)
    assert result.state.status is EnrollmentStatus.EXITED
    assert "a loop with no wait" in (result.state.exit_reason or "")


def test_every_step_logs_its_entry_once(now: datetime) -> None:
    wf = flow("  - {id: s, type: send, template: hello}\n  - {id: w, type: wait, for: 1h}")
    state = advance(wf, begin(wf, now), contact(), now)
    woke = advance(wf, state.state, contact(), now + timedelta(hours=1))
    entries = [d.step_id for d in (*state.decisions, *woke.decisions) if d.enters]
    assert entries == ["s", "w"]
